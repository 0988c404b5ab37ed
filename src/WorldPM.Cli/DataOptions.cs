using System.CommandLine;
using WorldPM.Data;

namespace WorldPM.Cli;

/// <summary>
/// The options of every command that reads preference data (<c>train</c>, <c>eval</c>): the format, strictness and
/// the readers' settings, turned into one <see cref="DataLoadOptions"/>. Built once per command (an option belongs
/// to one command).
/// </summary>
internal sealed class DataOptions
{
    private readonly Option<string> _format = new Option<string>("--format")
    {
        Description = $"The format of every data file: {DataFormatNames.All} (auto detects it per file from its content).",
        DefaultValueFactory = _ => DataFormatNames.Name(DataFormat.Auto),
        HelpName = "NAME",
    }.Must(name => DataFormatNames.TryParse(name) is not null, $"one of {DataFormatNames.All}");

    private readonly Option<bool> _strict = new("--strict") { Description = "Stop at the first bad data record instead of counting and reporting it." };

    private readonly Option<bool> _weightByConfidence = new("--weight-by-confidence")
    {
        Description = "summarize-from-feedback: weight each pair by the labeller's confidence, |confidence - 5| / 4.",
    };

    private readonly Option<double> _minScoreMargin = new Option<double>("--min-score-margin")
    {
        Description = "stackexchange and helpsteer: the score difference a pair must exceed (0 pairs any two different scores).",
        HelpName = "M",
    }.InRange(0, double.MaxValue, "at least 0");

    private readonly Option<int> _acceptedAnswerBonus = new Option<int>("--accepted-answer-bonus")
    {
        Description = "stackexchange: points added to the accepted answer's score before ranking (WorldPM's rule is 1).",
        HelpName = "N",
    }.AtLeast(0);

    private readonly Option<bool> _lenientUtf8 = new("--lenient-utf8")
    {
        Description = "Read bytes that are not UTF-8 as U+FFFD instead of reporting their record as bad.",
    };

    private readonly Option<string> _promptColumn = Column("--prompt-column", "prompt", "prompt");

    private readonly Option<string> _chosenColumn = Column("--chosen-column", "chosen", "chosen (preferred) response");

    private readonly Option<string> _rejectedColumn = Column("--rejected-column", "rejected", "rejected response");

    public IEnumerable<Option> All =>
    [
        _format, _strict, _lenientUtf8, _weightByConfidence, _minScoreMargin, _acceptedAnswerBonus, _promptColumn, _chosenColumn, _rejectedColumn,
    ];

    public DataLoadOptions Read(ParseResult r) => new()
    {
        Format = DataFormatNames.TryParse(r.GetValue(_format)!) ?? DataFormat.Auto,
        Strict = r.GetValue(_strict),
        LenientUtf8 = r.GetValue(_lenientUtf8),
        WeightByConfidence = r.GetValue(_weightByConfidence),
        MinScoreMargin = r.GetValue(_minScoreMargin),
        AcceptedAnswerBonus = r.GetValue(_acceptedAnswerBonus),
        Columns = new ColumnMapping(Prompt: r.GetValue(_promptColumn)!, Chosen: r.GetValue(_chosenColumn)!, Rejected: r.GetValue(_rejectedColumn)!),
    };

    /// <summary>An option naming the CSV or Parquet column that holds <paramref name="what"/>.</summary>
    private static Option<string> Column(string name, string defaultColumn, string what) => new Option<string>(name)
    {
        Description = $"csv and parquet: the column holding the {what} (default {defaultColumn}).",
        DefaultValueFactory = _ => defaultColumn,
        HelpName = "COLUMN",
    }.Must(column => !string.IsNullOrWhiteSpace(column), "a column name");
}
