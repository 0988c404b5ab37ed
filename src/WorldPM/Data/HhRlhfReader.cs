namespace WorldPM.Data;

/// <summary>
/// Anthropic HH-RLHF lines, <c>{"chosen": transcript, "rejected": transcript}</c>. Each transcript is
/// split at its last Assistant turn; the two prompts must be identical, or the record is bad.
/// </summary>
internal sealed class HhRlhfReader : IPairReader
{
    public void Read(DataSource source, PairCollector collector) =>
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var (chosenPrompt, chosen) = HhTranscript.Split(record.RequiredString("chosen"), "chosen");
            var (rejectedPrompt, rejected) = HhTranscript.Split(record.RequiredString("rejected"), "rejected");
            if (chosenPrompt != rejectedPrompt)
            {
                throw new BadRecordException("chosen and rejected transcripts differ before their last Assistant turn");
            }
            collector.Add(at, HhTranscript.Turns(chosenPrompt), chosen, rejected);
        });
}
