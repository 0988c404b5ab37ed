using System.Globalization;
using System.Runtime.InteropServices;
using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// A StackExchange dump's <c>Posts.xml</c>, read in bounded memory whatever its size. Answers are
/// grouped by question; every two answers whose scores differ by more than
/// <see cref="DataLoadOptions.MinScoreMargin"/> make a pair, the higher-scored one chosen (the
/// accepted answer first gets <see cref="DataLoadOptions.AcceptedAnswerBonus"/>). The prompt is the
/// question's title and body; bodies are converted from HTML to text; the subset is the site name,
/// the name of the folder holding the file. With <see cref="DataLoadOptions.MarginFrom"/>
/// <see cref="DataLoadOptions.VotesMarginField"/>, a pair's margin is the two answers' vote (score) gap, bonus left out.
/// <para>
/// One pass with <see cref="XmlReader"/> parks each post's text (HTML already turned into plain text) in a
/// <see cref="PostTextSpill"/> and the rest of it in a fixed-size <see cref="PostRecord"/>; the records are grouped by
/// two <see cref="ExternalSort{T}"/>s: by question id (which pairs each answer with its question), then by the
/// question's row in the file (which puts the groups back in the file's order). An external sort rather than buckets
/// by question id: its runs have a fixed size whatever the ids' spread and the post count, neither known while
/// streaming, and the output has to be in file order, which buckets would need a sort for anyway. Memory is one run
/// (<c>sortBudgetBytes</c>, twice that while the first merge feeds the second sort) and one question's answers.
/// </para>
/// <para>
/// Order: bad rows as met, then answers whose question is not in the file, in file order, then the pairs question by
/// question in the file's order of the questions, a question's answers compared in file order. Ids are compared as
/// numbers, so a row whose Id or ParentId is not a plain integer (all of a dump's are) is a bad record; a
/// non-integer AcceptedAnswerId can name no answer so counts as none. Two questions with one id: the first takes the
/// answers.
/// </para>
/// </summary>
internal sealed class StackExchangeReader(long sortBudgetBytes = StackExchangeReader.DefaultSortBudgetBytes, string? scratchFolder = null)
    : IPairReader
{
    /// <summary>The memory one sort run may take: 32 MiB, some 600,000 posts a run.</summary>
    public const long DefaultSortBudgetBytes = 32 << 20;

    private sealed record Question(string Text, long? AcceptedAnswerId, int Line);

    private sealed record Answer(long Id, int Score, string Text, int Line);

    /// <summary>
    /// A question or answer as the grouping sorts it: fixed size so that runs go to disk and back as bytes, its text in
    /// the spill at <see cref="TextAt"/>. Sorted by <see cref="Group"/>, the question before its answers, then by
    /// <see cref="Row"/>: a total order, so the output does not depend on the budget.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PostRecord
    {
        /// <summary>First sort: the question's id (an answer's ParentId). Second sort: the question's <see cref="Row"/>,
        /// or for an answer without a question <see cref="OrphanGroup"/>, so these come first, each alone.</summary>
        public long Group;

        /// <summary>The post's 0-based ordinal among the file's rows (lines are not unique: rows may share one).</summary>
        public long Row;

        public long Id;
        public long AcceptedAnswerId;
        public long TextAt;
        public int Line;
        public int Score;
        public bool IsAnswer;
        public bool HasAcceptedAnswer;
    }

    private sealed class PostOrder : IComparer<PostRecord>
    {
        public static readonly PostOrder Instance = new();

        public int Compare(PostRecord x, PostRecord y) =>
            x.Group != y.Group ? x.Group.CompareTo(y.Group)
            : x.IsAnswer != y.IsAnswer ? x.IsAnswer.CompareTo(y.IsAnswer)
            : x.Row.CompareTo(y.Row);
    }

    public void Read(DataSource source, PairCollector collector)
    {
        using var texts = new PostTextSpill(scratchFolder);
        using var byQuestionRow = new ExternalSort<PostRecord>(PostOrder.Instance, sortBudgetBytes, scratchFolder);
        using (var byQuestionId = new ExternalSort<PostRecord>(PostOrder.Instance, sortBudgetBytes, scratchFolder))
        {
            ReadRows(source, collector, byQuestionId, texts);
            JoinAnswersToQuestions(byQuestionId.Sorted(), byQuestionRow);
        }
        var site = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(source.Path)));
        var answers = new List<Answer>();
        Question? question = null;
        foreach (var post in byQuestionRow.Sorted())
        {
            if (post.IsAnswer && post.Group == OrphanGroup(post.Row))
            {
                collector.Bad(source.At(post.Line), $"answer {post.Id}: its question is not in the file");
            }
            else if (!post.IsAnswer)
            {
                if (question is not null) Pair(source, collector, question, answers, site);
                question = new Question(texts.Read(post.TextAt), post.HasAcceptedAnswer ? post.AcceptedAnswerId : null, post.Line);
                answers.Clear();
            }
            else
            {
                answers.Add(new Answer(post.Id, post.Score, texts.Read(post.TextAt), post.Line));
            }
        }
        if (question is not null) Pair(source, collector, question, answers, site);
    }

    /// <summary>
    /// Walks the posts sorted by question id and adds to <paramref name="byQuestionRow"/> each question that has answers
    /// and its answers, keyed by the question's row; answers without a question are keyed to come first, one by one.
    /// </summary>
    private static void JoinAnswersToQuestions(IEnumerable<PostRecord> byQuestionId, ExternalSort<PostRecord> byQuestionRow)
    {
        PostRecord question = default;
        long? groupId = null;
        bool hasQuestion = false, questionAdded = false;
        foreach (var post in byQuestionId)
        {
            if (post.Group != groupId) (groupId, hasQuestion, questionAdded) = (post.Group, false, false);
            if (!post.IsAnswer)
            {
                // Questions sort before their answers; a second question with the same id gets none of them.
                if (!hasQuestion) (question, hasQuestion) = (post, true);
                continue;
            }
            var answer = post;
            if (!hasQuestion)
            {
                answer.Group = OrphanGroup(post.Row);
            }
            else
            {
                if (!questionAdded)
                {
                    question.Group = question.Row;
                    byQuestionRow.Add(question);
                    questionAdded = true;
                }
                answer.Group = question.Row;
            }
            byQuestionRow.Add(answer);
        }
    }

    /// <summary>The second sort's group of an answer without a question: below every question's row, one per answer.</summary>
    private static long OrphanGroup(long row) => long.MinValue + row;

    private static void ReadRows(DataSource source, PairCollector collector, ExternalSort<PostRecord> posts, PostTextSpill texts)
    {
        using var xml = SafeXml.Open(source, collector.Options.LenientUtf8);
        var lineInfo = (IXmlLineInfo)xml;
        long row = 0;
        try
        {
            while (xml.Read())
            {
                if (xml.NodeType == XmlNodeType.Element && xml.Name == "row")
                {
                    ReadRow(xml, row++, source.At(lineInfo.LineNumber), collector, posts, texts);
                }
            }
        }
        catch (XmlException e)
        {
            collector.Bad(source.At(e.LineNumber), $"{SafeXml.Reason(e)}; rest of file not read");
        }
    }

    private static void ReadRow(XmlReader row, long ordinal, RecordLocation at, PairCollector collector, ExternalSort<PostRecord> posts,
        PostTextSpill texts)
    {
        try
        {
            switch (row.GetAttribute("PostTypeId"))
            {
                case "1":
                    var title = row.GetAttribute("Title") ?? "";
                    var body = HtmlText.ToPlainText(row.GetAttribute("Body") ?? "");
                    var id = PostId(row, "Id");
                    var accepted = IntegerId(row.GetAttribute("AcceptedAnswerId"));
                    posts.Add(new PostRecord
                    {
                        Group = id, Row = ordinal, Id = id, Line = at.Line!.Value, HasAcceptedAnswer = accepted.HasValue,
                        AcceptedAnswerId = accepted ?? 0, TextAt = texts.Write($"{title.Trim()}\n\n{body}".Trim()),
                    });
                    break;
                case "2":
                    var (answerId, score) = (PostId(row, "Id"), Score(row));
                    var text = HtmlText.ToPlainText(row.GetAttribute("Body") ?? "");
                    var parent = PostId(row, "ParentId");
                    posts.Add(new PostRecord
                    {
                        Group = parent, Row = ordinal, Id = answerId, Score = score, Line = at.Line!.Value, IsAnswer = true,
                        TextAt = texts.Write(text),
                    });
                    break;
            }
        }
        catch (BadRecordException e)
        {
            collector.Bad(at, e.Message);
        }
    }

    private static void Pair(DataSource source, PairCollector collector, Question question, List<Answer> answers, string? site)
    {
        var prompt = new[] { new ChatTurn(ChatRole.User, question.Text) };
        double Ranked(Answer answer) => answer.Score + (answer.Id == question.AcceptedAnswerId ? collector.Options.AcceptedAnswerBonus : 0);
        ScoreRanking.Pairs(answers, Ranked, collector, (chosen, rejected) =>
            collector.Add(source.At(question.Line), prompt, chosen.Text, rejected.Text, subset: site,
                margin: collector.Options.MarginFrom == DataLoadOptions.VotesMarginField ? chosen.Score - rejected.Score : null));
    }

    private static string Attribute(XmlReader row, string name) =>
        row.GetAttribute(name) is { Length: > 0 } value ? value : throw new BadRecordException($"row has no {name} attribute");

    private static long PostId(XmlReader row, string name)
    {
        var text = Attribute(row, name);
        return IntegerId(text) ?? throw new BadRecordException($"{name} \"{text}\" is not a plain integer (posts are grouped by numeric id)");
    }

    /// <summary>The id as a number when it is written as one in canonical form, where comparing numbers is comparing
    /// the text ("010" would otherwise be the same post as "10"); null otherwise.</summary>
    private static long? IntegerId(string? text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id)
        && id.ToString(CultureInfo.InvariantCulture) == text ? id : null;

    private static int Score(XmlReader row) =>
        int.TryParse(Attribute(row, "Score"), out var score) ? score : throw new BadRecordException($"Score \"{row.GetAttribute("Score")}\" is not an integer");
}
