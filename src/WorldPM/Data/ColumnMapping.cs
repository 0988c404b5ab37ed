namespace WorldPM.Data;

/// <summary>
/// Which columns of a table (Parquet, or CSV with a header row) hold the parts of a pair. Prompt, chosen and rejected
/// are required (a CSV file may instead follow the arena convention, see <see cref="CsvPairReader"/>); a subset or
/// weight column that is named here but absent from the file is simply not used.
/// </summary>
public sealed record ColumnMapping(
    string Prompt = "prompt",
    string Chosen = "chosen",
    string Rejected = "rejected",
    string? Subset = "subset",
    string? Weight = "weight");
