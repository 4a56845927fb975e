/// The control API's types are part of the mesh domain's vocabulary: code that imports MeshCore
/// sees them without importing MeshAPI too.
@_exported import MeshAPI
