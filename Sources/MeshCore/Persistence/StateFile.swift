/// The outcome of reading one state file: its content, nothing (absent), or a problem (the
/// file was moved aside).
public enum StateFile<Value> {
    case value(Value)
    case absent
    case corrupt(problem: String)
}
