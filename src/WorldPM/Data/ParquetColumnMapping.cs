namespace WorldPM.Data;

/// <summary>
/// Which Parquet columns hold the parts of a pair. Prompt, chosen and rejected are required; a
/// subset or weight column that is named here but absent from the file is simply not used.
/// </summary>
public sealed record ParquetColumnMapping(
    string Prompt = "prompt",
    string Chosen = "chosen",
    string Rejected = "rejected",
    string? Subset = "subset",
    string? Weight = "weight");
