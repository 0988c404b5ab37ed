namespace WorldPM.Data;

/// <summary>Who said a turn of a conversation.</summary>
public enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>One turn of a conversation.</summary>
public sealed record ChatTurn(ChatRole Role, string Content);

/// <summary>
/// One ranked pair: a prompt (the conversation so far) and two responses to it, of which people
/// preferred <see cref="Chosen"/>. <see cref="Weight"/> scales the pair's loss; <see cref="Subset"/>
/// names where it came from (an LLMBar folder, a StackExchange site) for per-subset evaluation.
/// <see cref="Source"/> says which file and line it came from, for error messages. <see cref="Margin"/> is how
/// strongly the chosen response is preferred, from a graded field of the data (<see cref="DataLoadOptions.MarginFrom"/>),
/// or null: margin losses (bt-margin, hinge) read it.
/// </summary>
public sealed record PreferencePair(
    IReadOnlyList<ChatTurn> Prompt,
    string Chosen,
    string Rejected,
    double Weight = 1.0,
    string? Subset = null,
    string? Source = null,
    double? Margin = null);
