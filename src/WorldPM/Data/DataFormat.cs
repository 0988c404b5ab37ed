namespace WorldPM.Data;

/// <summary>The on-disk shapes of preference data that <see cref="PreferenceDataset"/> reads.</summary>
public enum DataFormat
{
    /// <summary>Detect the format from the file's content (and the <c>.parquet</c> extension).</summary>
    Auto,

    /// <summary>JSON Lines (or a JSON array) of <c>{"prompt","chosen","rejected"}</c>, as strings or chat-message lists.</summary>
    GenericJson,

    /// <summary>Anthropic HH-RLHF: <c>{"chosen","rejected"}</c> whole transcripts with Human/Assistant turns.</summary>
    HhRlhf,

    /// <summary>A StackExchange dump's <c>Posts.xml</c>: pairs of answers to one question ranked by score.</summary>
    StackExchange,

    /// <summary>OpenAI summarize-from-feedback comparisons: a Reddit post, two summaries and the labeller's choice.</summary>
    SummarizeFromFeedback,

    /// <summary>LLMBar <c>dataset.json</c>: an array of <c>{"input","output_1","output_2","label"}</c>.</summary>
    LlmBar,

    /// <summary>HelpSteer-style scored responses: <c>{"prompt","response", attribute scores}</c>, paired by score.</summary>
    HelpSteer,

    /// <summary>A Parquet table with prompt/chosen/rejected columns (see <see cref="ColumnMapping"/>).</summary>
    Parquet,

    /// <summary>
    /// Answer rankings: <c>{"question","answers":[...],"judgments":[{"i","j","preference"}]}</c>, pairwise judgments
    /// between a question's answers, 0 meaning no preference (see <see cref="AnswerRankingReader"/>).
    /// </summary>
    AnswerRankings,

    /// <summary>
    /// CSV with a header row: prompt/chosen/rejected columns (see <see cref="ColumnMapping"/>), or the arena convention
    /// of two completions and the accepted one (see <see cref="CsvPairReader"/>).
    /// </summary>
    Csv,
}
