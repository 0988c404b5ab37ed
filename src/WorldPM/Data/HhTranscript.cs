namespace WorldPM.Data;

/// <summary>
/// An HH-RLHF transcript: turns that start with <c>"\n\nHuman:"</c> or <c>"\n\nAssistant:"</c>.
/// The last Assistant turn is the response; everything before it is the prompt.
/// </summary>
internal static class HhTranscript
{
    private const string HumanMarker = "\n\nHuman:";
    private const string AssistantMarker = "\n\nAssistant:";

    /// <summary>Splits at the last Assistant marker into the raw prompt text and the response.</summary>
    public static (string Prompt, string Response) Split(string transcript, string field)
    {
        var last = transcript.LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        if (last < 0)
        {
            throw new BadRecordException($"\"{field}\" transcript has no \"\\n\\nAssistant:\" turn");
        }
        return (transcript[..last], transcript[(last + AssistantMarker.Length)..].Trim());
    }

    /// <summary>The prompt text's turns; text before the first marker, if any, is a user turn.</summary>
    public static IReadOnlyList<ChatTurn> Turns(string prompt)
    {
        var turns = new List<ChatTurn>();
        var role = ChatRole.User;
        var start = 0;
        while (Next(prompt, start) is var (at, markerRole, length))
        {
            AddTurn(turns, role, prompt[start..at], keepEmpty: start > 0);
            role = markerRole;
            start = at + length;
        }
        AddTurn(turns, role, prompt[start..], keepEmpty: start > 0);
        return turns;
    }

    private static void AddTurn(List<ChatTurn> turns, ChatRole role, string text, bool keepEmpty)
    {
        var content = text.Trim();
        if (content.Length > 0 || keepEmpty)
        {
            turns.Add(new ChatTurn(role, content));
        }
    }

    private static (int At, ChatRole Role, int Length)? Next(string text, int from)
    {
        var human = text.IndexOf(HumanMarker, from, StringComparison.Ordinal);
        var assistant = text.IndexOf(AssistantMarker, from, StringComparison.Ordinal);
        if (human < 0 && assistant < 0)
        {
            return null;
        }
        return human >= 0 && (assistant < 0 || human < assistant)
            ? (human, ChatRole.User, HumanMarker.Length)
            : (assistant, ChatRole.Assistant, AssistantMarker.Length);
    }
}
