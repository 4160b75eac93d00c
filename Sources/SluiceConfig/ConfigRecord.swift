/// One field of a record type: its name, type, default (nil: required) and doc.
public struct ConfigRecordField: Sendable, Equatable {
    /// The field's name, as written before `=`.
    public let name: String
    /// The field's type (a list field's items are separated by commas).
    public let type: ConfigValueType
    /// The default as text, nil when the field is required.
    public let defaultText: String?
    /// One-line documentation.
    public let doc: String

    /// Declares a field.
    public init(_ name: String, _ type: ConfigValueType, default defaultText: String? = nil, doc: String) {
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.doc = doc
    }
}

/// A parsed record: every declared field with its value (defaults filled in), in declaration order.
public struct ConfigRecord: Sendable, Equatable, CustomStringConvertible {
    /// Field names and values, in declaration order.
    public let fields: [(name: String, value: ConfigValue)]

    /// Wraps parsed fields.
    public init(fields: [(name: String, value: ConfigValue)]) { self.fields = fields }

    /// The value of `field` read as `Value`, nil when absent or of another kind.
    public func value<Value: ConfigReadable>(_ field: String, as type: Value.Type = Value.self) -> Value? {
        fields.first { $0.name == field }.flatMap { Value.read($0.value) }
    }

    /// Records are equal when their fields are.
    public static func == (lhs: ConfigRecord, rhs: ConfigRecord) -> Bool {
        lhs.fields.map(\.name) == rhs.fields.map(\.name) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }

    /// `field=value field=value`.
    public var description: String { fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }
}
