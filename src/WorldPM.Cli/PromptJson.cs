using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Data;

namespace WorldPM.Cli;

/// <summary>A prompt in JSON as <c>score --file</c> and <c>serve</c> read it: absent, a string (one user message), or
/// a list of <c>{"role", "content"}</c> messages.</summary>
internal static class PromptJson
{
    /// <summary>The turns of <paramref name="prompt"/>; a <see cref="FormatException"/> says what is wrong with it, naming
    /// it as <paramref name="field"/> (the caller adds the file and line).</summary>
    public static IReadOnlyList<ChatTurn> Turns(JsonNode? prompt, string field = "prompt")
    {
        if (prompt is null) return [];
        if (prompt is JsonValue text && text.GetValueKind() == JsonValueKind.String) return FromText(text.GetValue<string>());
        if (prompt is not JsonArray messages) throw new FormatException($"\"{field}\" should be a string or a list of messages");
        return messages.Select(m =>
        {
            string? role = (m?["role"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? m!["role"]!.GetValue<string>() : null;
            string? content = (m?["content"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? m!["content"]!.GetValue<string>() : null;
            ChatRole? parsed = role switch { "system" => ChatRole.System, "user" => ChatRole.User, "assistant" => ChatRole.Assistant, _ => null };
            return parsed is { } r && content is not null
                ? new ChatTurn(r, content)
                : throw new FormatException($"each message of \"{field}\" needs \"role\" (system, user or assistant) and \"content\" strings");
        }).ToList();
    }

    /// <summary>A prompt given as text: one user message, or none when empty.</summary>
    public static IReadOnlyList<ChatTurn> FromText(string? prompt) =>
        string.IsNullOrEmpty(prompt) ? [] : [new ChatTurn(ChatRole.User, prompt)];
}
