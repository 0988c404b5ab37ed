using System.Text.Json;

namespace WorldPM.Data;

/// <summary>Chat-message lists in JSON: <c>[{"role": "user", "content": "..."}]</c>.</summary>
internal static class ChatMessages
{
    /// <summary>A prompt: a string (one user turn) or a message list.</summary>
    public static IReadOnlyList<ChatTurn> Prompt(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.String => [new ChatTurn(ChatRole.User, value.GetString()!)],
        JsonValueKind.Array => Turns(value, field),
        _ => throw new BadRecordException($"field \"{field}\" should be a string or a message list, not {JsonFields.Describe(value)}"),
    };

    /// <summary>A message list's turns.</summary>
    public static IReadOnlyList<ChatTurn> Turns(JsonElement list, string field) =>
        list.EnumerateArray().Select(message => Turn(message, field)).ToList();

    public static ChatRole Role(string role) => role.ToLowerInvariant() switch
    {
        "system" => ChatRole.System,
        "user" or "human" => ChatRole.User,
        "assistant" or "gpt" => ChatRole.Assistant,
        _ => throw new BadRecordException($"unknown chat role \"{role}\""),
    };

    private static ChatTurn Turn(JsonElement message, string field)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new BadRecordException($"field \"{field}\" should hold message objects, not {JsonFields.Describe(message)}");
        }
        return new ChatTurn(Role(message.RequiredString("role")), message.RequiredString("content"));
    }
}
