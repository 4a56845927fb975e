/// One stored entry with the values the trie needs without looking inside it again.
struct TrieSlot: Sendable {
    /// Position in the trie: a scrambled hash of the id, so ids chosen in sequence (tests) or
    /// ground by an attacker still spread evenly over the buckets.
    let path: UInt64
    let entry: MemberEntry
    /// Contribution to every enclosing summary; summaries add these with wrapping arithmetic,
    /// which makes them independent of insertion order and cheap to update.
    let hash: UInt64
}

/// A persistent radix-16 trie over entry paths that caches, per subtree, the sum of entry hashes
/// and the entry counts.
///
/// Persistent (every update copies only the path to the changed leaf) because the simulator keeps
/// 10,000 replicas of a 10,000-entry store in one process: they share everything they have in
/// common, so a join costs each replica a few hundred bytes, not a copy of the map. The cached
/// hashes make the trie a Merkle-style digest: the hashes of the subtrees at depth `L` are the
/// bucket digest at level `L`, read without visiting the entries below.
final class TrieNode: Sendable {
    static let leafCapacity = 8
    static let maxDepth = 16

    /// Leaf entries, sorted by path; empty for inner nodes.
    let slots: [TrieSlot]
    /// Children of an inner node, in digit order; `bitmap` says which digits they stand for.
    let children: [TrieNode]
    let bitmap: UInt16
    let hash: UInt64
    let count: Int
    let liveCount: Int

    private init(slots: [TrieSlot], children: [TrieNode], bitmap: UInt16) {
        self.slots = slots
        self.children = children
        self.bitmap = bitmap
        var hash: UInt64 = 0
        var count = 0
        var live = 0
        for slot in slots {
            hash &+= slot.hash
            count += 1
            live += slot.entry.isPresent ? 1 : 0
        }
        for child in children {
            hash &+= child.hash
            count += child.count
            live += child.liveCount
        }
        self.hash = hash
        self.count = count
        self.liveCount = live
    }

    static let empty = TrieNode(slots: [], children: [], bitmap: 0)

    var isLeaf: Bool { bitmap == 0 }

    @inline(__always)
    static func digit(_ path: UInt64, depth: Int) -> Int {
        Int(truncatingIfNeeded: (path >> UInt64(60 - 4 * depth)) & 0xF)
    }

    @inline(__always)
    private func childIndex(digit: Int) -> Int {
        (bitmap & ((1 << UInt16(digit)) &- 1)).nonzeroBitCount
    }

    private func child(digit: Int) -> TrieNode? {
        bitmap & (1 << UInt16(digit)) == 0 ? nil : children[childIndex(digit: digit)]
    }

    func lookup(path: UInt64, id: NodeID, depth: Int = 0) -> TrieSlot? {
        var node = self
        var depth = depth
        while !node.isLeaf {
            guard let next = node.child(digit: TrieNode.digit(path, depth: depth)) else { return nil }
            node = next
            depth += 1
        }
        return node.slots.first { $0.path == path && $0.entry.id == id }
    }

    /// Returns a trie with `slot` stored (replacing the entry with the same id) or, when `slot` is
    /// nil, with the entry for `id` removed.
    func replacing(path: UInt64, id: NodeID, with slot: TrieSlot?, depth: Int = 0) -> TrieNode {
        if isLeaf {
            var slots = self.slots
            if let index = slots.firstIndex(where: { $0.path == path && $0.entry.id == id }) {
                if let slot { slots[index] = slot } else { slots.remove(at: index) }
            } else if let slot {
                let index = slots.firstIndex { $0.path > path } ?? slots.endIndex
                slots.insert(slot, at: index)
            } else {
                return self
            }
            if slots.count > TrieNode.leafCapacity && depth < TrieNode.maxDepth {
                return TrieNode.split(slots, depth: depth)
            }
            return TrieNode(slots: slots, children: [], bitmap: 0)
        }
        let digit = TrieNode.digit(path, depth: depth)
        var children = self.children
        var bitmap = self.bitmap
        let index = childIndex(digit: digit)
        if let existing = child(digit: digit) {
            let updated = existing.replacing(path: path, id: id, with: slot, depth: depth + 1)
            if updated.count == 0 {
                children.remove(at: index)
                bitmap &= ~(1 << UInt16(digit))
            } else {
                children[index] = updated
            }
        } else if let slot {
            children.insert(TrieNode(slots: [slot], children: [], bitmap: 0), at: index)
            bitmap |= 1 << UInt16(digit)
        } else {
            return self
        }
        if bitmap == 0 { return .empty }
        return TrieNode(slots: [], children: children, bitmap: bitmap)
    }

    private static func split(_ slots: [TrieSlot], depth: Int) -> TrieNode {
        var groups: [[TrieSlot]] = Array(repeating: [], count: 16)
        for slot in slots { groups[digit(slot.path, depth: depth)].append(slot) }
        var children: [TrieNode] = []
        var bitmap: UInt16 = 0
        for (digit, group) in groups.enumerated() where !group.isEmpty {
            bitmap |= 1 << UInt16(digit)
            let leaf = TrieNode(slots: group, children: [], bitmap: 0)
            children.append(
                group.count > leafCapacity && depth + 1 < maxDepth ? split(group, depth: depth + 1) : leaf)
        }
        return TrieNode(slots: [], children: children, bitmap: bitmap)
    }

    /// Visits every slot in path order; stops early when `body` returns false.
    @discardableResult
    func visit(_ body: (TrieSlot) -> Bool) -> Bool {
        for slot in slots where !body(slot) { return false }
        for child in children where !child.visit(body) { return false }
        return true
    }

    /// Collects the entries of `other` that may differ from ours, skipping every subtree whose
    /// hash and count match (the Merkle property), so merging a replica costs O(differences).
    func entries(differingIn other: TrieNode, depth: Int = 0, into out: inout [MemberEntry]) {
        if self === other || (hash == other.hash && count == other.count) { return }
        if isLeaf || other.isLeaf {
            other.visit {
                out.append($0.entry); return true
            }
            return
        }
        var remaining = other.bitmap
        var index = 0
        while remaining != 0 {
            let digit = remaining.trailingZeroBitCount
            let theirs = other.children[index]
            if let ours = child(digit: digit) {
                ours.entries(differingIn: theirs, depth: depth + 1, into: &out)
            } else {
                theirs.visit {
                    out.append($0.entry); return true
                }
            }
            remaining &= remaining - 1
            index += 1
        }
    }

    /// Adds each entry's hash into the bucket its path falls in at `level` (16^level buckets).
    func addBucketHashes(level: Int, depth: Int = 0, prefix: Int = 0, into out: inout [UInt64]) {
        if depth == level {
            out[prefix] &+= hash
            return
        }
        for slot in slots {
            out[Int(truncatingIfNeeded: slot.path >> UInt64(64 - 4 * level))] &+= slot.hash
        }
        var remaining = bitmap
        var index = 0
        while remaining != 0 {
            let digit = remaining.trailingZeroBitCount
            children[index].addBucketHashes(
                level: level, depth: depth + 1, prefix: prefix << 4 | digit, into: &out)
            remaining &= remaining - 1
            index += 1
        }
    }

    /// Visits the slots whose path falls in `bucket` at `level`.
    func visit(inBucket bucket: Int, level: Int, depth: Int = 0, _ body: (TrieSlot) -> Void) {
        if depth >= level {
            visit {
                body($0); return true
            }
            return
        }
        if isLeaf {
            for slot in slots where Int(truncatingIfNeeded: slot.path >> UInt64(64 - 4 * level)) == bucket {
                body(slot)
            }
            return
        }
        let digit = (bucket >> (4 * (level - 1 - depth))) & 0xF
        child(digit: digit)?.visit(inBucket: bucket, level: level, depth: depth + 1, body)
    }

    /// Present entries whose path is below `path`: with `presentEntry(at:)`, counting and
    /// choosing members in a part of the path space in O(16 · depth).
    func presentRank(below path: UInt64) -> Int {
        var rank = 0
        var node = self
        var depth = 0
        while true {
            for slot in node.slots where slot.entry.isPresent && slot.path < path { rank += 1 }
            guard !node.isLeaf, depth < TrieNode.maxDepth else { return rank }
            let digit = TrieNode.digit(path, depth: depth)
            var remaining = node.bitmap
            var index = 0
            var next: TrieNode?
            while remaining != 0 {
                let childDigit = remaining.trailingZeroBitCount
                if childDigit < digit {
                    rank += node.children[index].liveCount
                } else if childDigit == digit {
                    next = node.children[index]
                    break
                } else {
                    break
                }
                remaining &= remaining - 1
                index += 1
            }
            guard let next else { return rank }
            node = next
            depth += 1
        }
    }

    /// The `index`-th present entry in path order; `index` must be below `liveCount`.
    func presentEntry(at index: Int) -> MemberEntry {
        var remaining = index
        var node = self
        while true {
            for slot in node.slots where slot.entry.isPresent {
                if remaining == 0 { return slot.entry }
                remaining -= 1
            }
            guard
                let next = node.children.first(where: { child in
                    if remaining < child.liveCount { return true }
                    remaining -= child.liveCount
                    return false
                })
            else { preconditionFailure("index beyond liveCount") }
            node = next
        }
    }
}
