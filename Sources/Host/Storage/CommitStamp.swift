/// A moment of the database's history, for knowing without reading it that nothing was committed since: equal
/// stamps, no commit in between. Only the embedded backend gives them (`SQLiteCommitWatch`); without one, a
/// cache checks the database itself.
public struct CommitStamp: Equatable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64, e: UInt64, f: UInt64
}
