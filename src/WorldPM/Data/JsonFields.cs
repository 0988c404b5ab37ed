using System.Text.Json;

namespace WorldPM.Data;

/// <summary>Typed access to a JSON record's fields; a missing or mistyped field is a <see cref="BadRecordException"/>.</summary>
internal static class JsonFields
{
    public static JsonElement Required(this JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new BadRecordException($"missing field \"{name}\"");

    public static JsonElement? Optional(this JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string RequiredString(this JsonElement record, string name) => AsString(record.Required(name), name);

    public static string? OptionalString(this JsonElement record, string name) =>
        record.Optional(name) is { } value ? AsString(value, name) : null;

    public static double RequiredNumber(this JsonElement record, string name) => AsNumber(record.Required(name), name);

    public static double? OptionalNumber(this JsonElement record, string name) =>
        record.Optional(name) is { } value ? AsNumber(value, name) : null;

    public static int RequiredInt(this JsonElement record, string name)
    {
        var value = record.Required(name);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new BadRecordException($"field \"{name}\" should be an integer, not {Describe(value)}");
    }

    public static string AsString(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new BadRecordException($"field \"{name}\" should be a string, not {Describe(value)}");

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static double AsNumber(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new BadRecordException($"field \"{name}\" should be a number, not {Describe(value)}");
}
