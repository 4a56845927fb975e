import CMnl
import Glibc
import Testing

@testable import MeshCore
@testable import MeshLinux

@Suite struct NetlinkErrorTests {
    /// An `NLMSG_ERROR` as a kernel with extended ACKs sends it.
    func errorMessage(capped: Bool, text: String?) -> NetlinkMessageBuilder {
        var flags = Int32(capped ? NLM_F_CAPPED : 0)
        if text != nil { flags |= Int32(NLM_F_ACK_TLVS) }
        let request = NetlinkMessageBuilder(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST, extraHeader: 16)
        let message = NetlinkMessageBuilder(
            type: UInt16(NLMSG_ERROR), flags: flags, extraHeader: MemoryLayout<nlmsgerr>.size)
        let error = message.familyHeader(as: nlmsgerr.self)
        error.pointee.error = -EOPNOTSUPP
        error.pointee.msg = request.header.pointee
        if !capped {
            // The echoed request's payload follows the nlmsgerr.
            let payload = [UInt8](repeating: 0xaa, count: request.length - MemoryLayout<nlmsghdr>.size)
            _ = payload.withUnsafeBytes {
                mnl_nlmsg_put_extra_header(message.header, $0.count)!.copyMemory(
                    from: $0.baseAddress!, byteCount: $0.count)
            }
        }
        if let text { message.put(Int32(NLMSGERR_ATTR_MSG.rawValue), string: text) }
        return message
    }

    @Test(arguments: [true, false])
    func extendedAckTextIsFound(capped: Bool) {
        let message = errorMessage(capped: capped, text: "Unknown device type")
        #expect(NetlinkSocket.extendedAckMessage(UnsafePointer(message.header)) == "Unknown device type")
    }

    @Test func noTextWithoutTheFlag() {
        let message = errorMessage(capped: true, text: nil)
        #expect(NetlinkSocket.extendedAckMessage(UnsafePointer(message.header)) == nil)
    }

    @Test func descriptionNamesOperationErrnoAndKernelText() {
        let error = NetlinkError(
            operation: "create wireguard link wg0", errno: EOPNOTSUPP, kernelMessage: "Unknown device type")
        #expect(
            error.description
                == "create wireguard link wg0: Operation not supported (errno 95) — kernel says: Unknown device type")
        #expect(NetlinkError(operation: "x", errno: EEXIST).description == "x: File exists (errno 17)")
    }
}
