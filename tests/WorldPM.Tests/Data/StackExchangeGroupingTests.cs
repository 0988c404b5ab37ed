using System.Security;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>
/// The bounded StackExchange reader (posts grouped by external sorts) against a plain in-memory grouping written here on
/// <see cref="XDocument"/>: the pairs, their order, the orphan answers and the ties must be the same whatever the sort
/// budget, down to a few records a run.
/// </summary>
public class StackExchangeGroupingTests
{
    /// <summary>Budgets: the default (one run), 4 records a run (the record is under 64 bytes), and 40.</summary>
    private static readonly long[] Budgets = [StackExchangeReader.DefaultSortBudgetBytes, 4 * 64, 40 * 64];

    [TestCase(1, 0, 0.0, null)]
    [TestCase(2, 1, 0.0, null)]
    [TestCase(3, 2, 1.0, DataLoadOptions.VotesMarginField)]
    public void PairsAreThoseOfAnInMemoryGroupingWhateverTheBudget(int seed, int bonus, double minMargin, string? marginFrom)
    {
        using var folder = new TempFolder();
        var path = folder.Write("beer.stackexchange.com/Posts.xml", GeneratedPosts(seed, questions: 60));
        var options = new DataLoadOptions { AcceptedAnswerBonus = bonus, MinScoreMargin = minMargin, MarginFrom = marginFrom };
        var expected = Reference(path, options);
        Assert.That(expected.Pairs, Has.Count.GreaterThan(100));
        Assert.That(expected.Bad, Is.Not.Empty);
        Assert.That(expected.Ties, Is.GreaterThan(0));

        foreach (var budget in Budgets)
        {
            var scratch = Directory.CreateDirectory(Path.Combine(folder.Path, $"scratch-{budget}")).FullName;
            var collector = new PairCollector(options);
            new StackExchangeReader(budget, scratch).Read(new DataSource(path), collector);

            Assert.That(collector.Pairs.Select(Describe), Is.EqualTo(expected.Pairs), $"budget {budget}");
            Assert.That(collector.BadRecords.Select(issue => (issue.Location.ToString(), issue.Reason)), Is.EqualTo(expected.Bad), $"budget {budget}");
            Assert.That(collector.TiedComparisons, Is.EqualTo(expected.Ties), $"budget {budget}");
            Assert.That(Directory.GetFiles(scratch), Is.Empty, "scratch files left after reading");
        }
    }

    [Test]
    public void IdsThatAreNotPlainIntegersMakeBadRowsNamingTheAttribute()
    {
        using var folder = new TempFolder();
        var path = folder.Write("site/Posts.xml", """
            <posts>
              <row Id="q1" PostTypeId="1" Title="Named" Body="Text" />
              <row Id="2" PostTypeId="2" ParentId="q1" Score="1" Body="One" />
              <row Id="010" PostTypeId="2" ParentId="5" Score="1" Body="Zero-padded" />
              <row Id="5" PostTypeId="1" AcceptedAnswerId="abc" Title="Numbered" Body="Text" />
              <row Id="6" PostTypeId="2" ParentId="5" Score="2" Body="Two" />
              <row Id="7" PostTypeId="2" ParentId="5" Score="3" Body="Three" />
            </posts>
            """);
        var collector = new PairCollector(new DataLoadOptions { AcceptedAnswerBonus = 5 });

        new StackExchangeReader().Read(new DataSource(path), collector);

        Assert.That(collector.BadRecords.Select(issue => (issue.Location.Line, issue.Reason)), Is.EqualTo(new (int?, string)[]
        {
            (2, "Id \"q1\" is not a plain integer (posts are grouped by numeric id)"),
            (3, "ParentId \"q1\" is not a plain integer (posts are grouped by numeric id)"),
            (4, "Id \"010\" is not a plain integer (posts are grouped by numeric id)"),
        }));
        // AcceptedAnswerId "abc" names no answer, so no bonus: the higher score wins.
        Assert.That(collector.Pairs.Select(pair => (pair.Chosen, pair.Rejected)), Is.EqualTo(new[] { ("Three", "Two") }));
    }

    [Test]
    public void AnExceptionWhileReadingOrPairingLeavesNoScratchFiles()
    {
        using var folder = new TempFolder();
        var posts = GeneratedPosts(seed: 4, questions: 30);
        var path = folder.Write("site/Posts.xml", posts.Replace("</posts>", "  <row Id=\"1\" PostTypeId=\"2\" />\n</posts>"));
        var scratch = Directory.CreateDirectory(Path.Combine(folder.Path, "scratch")).FullName;

        // Strict: the bad last row throws while the rows are read, after runs were spilled.
        Assert.Throws<DataFormatException>(() =>
            new StackExchangeReader(4 * 64, scratch).Read(new DataSource(path), new PairCollector(new DataLoadOptions { Strict = true })));
        Assert.That(Directory.GetFiles(scratch), Is.Empty);

        // A sink that fails while the groups are paired; it sees the scratch files in use first.
        var filesInUse = 0;
        var failing = new PairCollector(new DataLoadOptions(), _ =>
        {
            filesInUse = Directory.GetFiles(scratch).Length;
            throw new IOException("disk full");
        });
        Assert.Throws<IOException>(() => new StackExchangeReader(4 * 64, scratch).Read(new DataSource(path), failing));
        Assert.That(filesInUse, Is.EqualTo(2), "the text spill and the second sort's runs");
        Assert.That(Directory.GetFiles(scratch), Is.Empty);
    }

    /// <summary>
    /// A Posts.xml of <paramref name="questions"/> questions with 0 to 5 answers each, scores 0-4 (many ties), some
    /// accepted answers, ids not in file order, rows shuffled so that answers often come before their question, a few
    /// rows sharing a line, answers to questions not in the file, and a question repeating an id.
    /// </summary>
    private static string GeneratedPosts(int seed, int questions)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(1, 20 * questions).OrderBy(_ => random.Next()).ToArray();
        var next = 0;
        var rows = new List<string>();
        for (var q = 0; q < questions; q++)
        {
            var questionId = ids[next++];
            var answers = Enumerable.Range(0, random.Next(6)).Select(_ => ids[next++]).ToArray();
            var accepted = answers.Length > 0 && random.Next(2) == 0 ? $" AcceptedAnswerId=\"{answers[random.Next(answers.Length)]}\"" : "";
            rows.Add($"<row Id=\"{questionId}\" PostTypeId=\"1\"{accepted} Title=\"Question {q}\" Body=\"{Escape($"<p>Why {q}?</p>")}\" />");
            rows.AddRange(answers.Select(a =>
                $"<row Id=\"{a}\" PostTypeId=\"2\" ParentId=\"{questionId}\" Score=\"{random.Next(5)}\" Body=\"{Escape($"<p>Answer {a} to {q}.</p>")}\" />"));
            if (q % 10 == 3) rows.Add($"<row Id=\"{ids[next++]}\" PostTypeId=\"2\" ParentId=\"{30 * questions + q}\" Score=\"1\" Body=\"Orphan {q}\" />");
        }
        // The same question id again: as today, the first of the two takes the answers.
        rows.Add($"<row Id=\"{ids[0]}\" PostTypeId=\"1\" Title=\"Repeated\" Body=\"Again\" />");
        rows = [.. rows.OrderBy(_ => random.Next())];
        var text = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n");
        for (var i = 0; i < rows.Count; i++) text.Append("  ").Append(rows[i]).Append(i % 7 == 2 ? " " : "\n");
        return text.Append("\n</posts>\n").ToString();
    }

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static string Describe(PreferencePair pair) =>
        $"{pair.Prompt.Single().Content} | {pair.Chosen} > {pair.Rejected} | margin {pair.Margin} | weight {pair.Weight} | {pair.Subset} | {pair.Source}";

    private sealed record Post(string Id, string? ParentId, string? Accepted, int Score, string Text, int Line, int Index);

    /// <summary>
    /// What the reader should give: the whole file in memory, answers grouped by their ParentId text, questions in file
    /// order with the first of a repeated id taking the answers, every two answers of a question compared in file order.
    /// </summary>
    private static (List<string> Pairs, List<(string, string)> Bad, int Ties) Reference(string path, DataLoadOptions options)
    {
        var rows = XDocument.Load(path, LoadOptions.SetLineInfo).Root!.Elements("row").Select((row, index) => new Post(
            (string)row.Attribute("Id")!, (string?)row.Attribute("ParentId"), (string?)row.Attribute("AcceptedAnswerId"),
            (int?)row.Attribute("Score") ?? 0,
            (string?)row.Attribute("Title") is { } title ? $"{title}\n\n{Plain((string)row.Attribute("Body")!)}" : Plain((string)row.Attribute("Body")!),
            ((IXmlLineInfo)row).LineNumber, index)).ToList();
        var answers = rows.Where(row => row.ParentId is not null).GroupBy(row => row.ParentId!).ToDictionary(g => g.Key, g => g.ToList());
        var site = Path.GetFileName(Path.GetDirectoryName(path));
        var (pairs, ties) = (new List<string>(), 0);
        foreach (var question in rows.Where(row => row.ParentId is null))
        {
            if (!answers.Remove(question.Id, out var group)) continue;
            double Ranked(Post answer) => answer.Score + (answer.Id == question.Accepted ? options.AcceptedAnswerBonus : 0);
            for (var i = 0; i < group.Count; i++)
            {
                for (var j = i + 1; j < group.Count; j++)
                {
                    var difference = Ranked(group[i]) - Ranked(group[j]);
                    if (Math.Abs(difference) <= options.MinScoreMargin)
                    {
                        ties++;
                        continue;
                    }
                    var (chosen, rejected) = difference > 0 ? (group[i], group[j]) : (group[j], group[i]);
                    double? margin = options.MarginFrom is null ? null : chosen.Score - rejected.Score;
                    pairs.Add($"{question.Text} | {chosen.Text} > {rejected.Text} | margin {margin} | weight 1 | {site} | {path}:{question.Line}");
                }
            }
        }
        var bad = answers.Values.SelectMany(group => group).OrderBy(answer => answer.Index)
            .Select(answer => ($"{path}:{answer.Line}", $"answer {answer.Id}: its question is not in the file")).ToList();
        return (pairs, bad, ties);
    }

    /// <summary>The generated bodies' HTML is one paragraph: its text.</summary>
    private static string Plain(string html) => html.Replace("<p>", "").Replace("</p>", "");
}
