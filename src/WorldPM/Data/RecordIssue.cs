namespace WorldPM.Data;

/// <summary>A record that did not become a pair, where it is and why.</summary>
public sealed record RecordIssue(RecordLocation Location, string Reason)
{
    public override string ToString() => $"{Location}: {Reason}";
}
