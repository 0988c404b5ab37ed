using System.Buffers.Binary;
using System.Text;
using WorldPM.Data;
using WorldPM.Evaluation;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Tests.Data;

/// <summary>
/// The token store: a store written from a streamed file holds exactly the pairs the in-memory path (load, then
/// encode) gives; ids above 16 bits survive; a damaged store is a <see cref="DataFormatException"/> naming the file
/// and the fault; an interrupted write leaves the previous store; the prefetched training order is the data order.
/// </summary>
public class TokenStoreTests
{
    private const int MaxLength = 48;

    /// <summary>Pairs with subsets, margins, weights (generic JSONL), a bad line and prompts long enough to be cut.</summary>
    private static string WriteData(TempFolder folder, int count = 40)
    {
        var lines = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            string prompt = i % 7 == 0 ? new string('x', 90) + $" question {i}" : $"question {i}";
            lines.Append($$"""{"prompt": "{{prompt}}", "chosen": "yes {{i}}", "rejected": "no {{i * 3}}", "subset": "s{{i % 3}}", "gap": {{i * 0.25}}, "weight": {{1 + i % 2}}}""").Append('\n');
            if (i == 5) lines.Append("not json\n");
        }
        return folder.Write("pairs.jsonl", lines.ToString());
    }

    private static LoadResult Prepare(string data, string store, DataLoadOptions options, ITokenizer tokenizer, int maxLength = MaxLength)
    {
        var encoder = new PairEncoder(new ChatTemplate(tokenizer), maxLength);
        LoadResult? result = null;
        TokenStoreWriter.Write(store, tokenizer, "test tokenizer", ScoringToken.EndOfText, maxLength, options.MarginFrom, writer =>
        {
            result = PreferenceDataset.Stream(data, options, (pair, at) => writer.Add(encoder.Encode(pair), at.File, PairStyle.Of(pair)));
            return result.Files.Select(f => new TokenStoreSource(f.Path, DataFormatNames.Name(f.Format), f.Pairs, f.BadRecords,
                f.SkippedRecords, f.TiedComparisons)).ToList();
        });
        return result!;
    }

    /// <summary>The style counts of two empty responses, for pairs written without text.</summary>
    private static readonly PairStyle NoStyle = PairStyle.Of(new PreferencePair([], "", ""));

    private static void AssertSame(TokenizedPair actual, TokenizedPair expected, int index)
    {
        Assert.That(actual.Chosen, Is.EqualTo(expected.Chosen), $"pair {index} chosen");
        Assert.That(actual.Rejected, Is.EqualTo(expected.Rejected), $"pair {index} rejected");
        Assert.That(actual with { Chosen = expected.Chosen, Rejected = expected.Rejected }, Is.EqualTo(expected), $"pair {index}");
    }

    [Test]
    public void AStoreHoldsExactlyThePairsTheInMemoryPathGives()
    {
        using var folder = new TempFolder();
        string data = WriteData(folder), store = System.IO.Path.Combine(folder.Path, "pairs.store");
        var options = new DataLoadOptions { MarginFrom = "gap" };
        var expected = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance), MaxLength).EncodeAll(PreferenceDataset.Load(data, options).Pairs);

        LoadResult streamed = Prepare(data, store, options, ByteTokenizer.Instance);

        Assert.That(streamed.Pairs, Is.Empty, "a streaming read keeps no pairs");
        Assert.That(streamed.PairCount, Is.EqualTo(40));
        Assert.That(streamed.BadRecords, Has.Count.EqualTo(1));
        Assert.That(expected.Count(p => p.Truncated), Is.GreaterThan(0), "the data exercises truncation");
        using TokenStore opened = TokenStore.Open(store);
        Assert.That(opened, Has.Count.EqualTo(expected.Count));
        for (int i = 0; i < expected.Count; i++) AssertSame(opened[i], expected[i], i);
        Assert.That(opened.Tokens, Is.EqualTo(expected.Sum(p => (long)p.Chosen.Length + p.Rejected.Length)));
        Assert.That(opened.DataFingerprint, Is.EqualTo(TrainingDataFingerprint.Of(expected)), "the writer's digest is the list's");
        Assert.That(opened.Metadata.Sources.Single().BadRecords, Is.EqualTo(1));
        Assert.That(opened.Metadata.PairsWithMargin, Is.EqualTo(40));
        Assert.That(opened.Metadata.TruncatedPairs, Is.EqualTo(expected.Count(p => p.Truncated)));
        Assert.That(opened.MaxLength, Is.EqualTo(MaxLength));
    }

    [Test]
    public void GzippedJsonLinesStreamToTheSamePairs()
    {
        using var folder = new TempFolder();
        string data = WriteData(folder);
        string gzip = folder.WriteGzip("pairs.jsonl.gz", File.ReadAllText(data));
        string plainStore = System.IO.Path.Combine(folder.Path, "a.store"), gzipStore = System.IO.Path.Combine(folder.Path, "b.store");
        Prepare(data, plainStore, new DataLoadOptions(), ByteTokenizer.Instance);
        Prepare(gzip, gzipStore, new DataLoadOptions(), ByteTokenizer.Instance);

        using TokenStore plain = TokenStore.Open(plainStore), zipped = TokenStore.Open(gzipStore);
        Assert.That(zipped, Has.Count.EqualTo(plain.Count));
        for (int i = 0; i < plain.Count; i++) AssertSame(zipped[i], plain[i], i);
    }

    /// <summary>A tokenizer with a vocabulary past 16 bits, so its ids are stored as four bytes.</summary>
    private sealed class WideTokenizer : ITokenizer
    {
        public int VocabSize => 70_000;
        public int EndOfTextId => 69_997;
        public int ImStartId => 69_998;
        public int ImEndId => 69_999;
        public int[] Encode(string text, bool parseSpecialTokens = false) => text.Select(c => 65_000 + c % 1000).ToArray();
        public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) => string.Join(",", ids.ToArray());
        public int TokenId(string token) => throw new KeyNotFoundException(token);
        public bool TryGetTokenId(string token, out int id) => (id = -1) >= 0;
    }

    [Test]
    public void IdsPastSixteenBitsAreStoredWhole()
    {
        using var folder = new TempFolder();
        string store = System.IO.Path.Combine(folder.Path, "wide.store");
        TokenizedPair[] pairs =
        [
            new([65_535, 65_536, 69_999], [1, 2], 0.5f, "a") { Margin = 2.5f, ChosenResponseTokens = 3, RejectedResponseTokens = 2 },
            new([0], [69_000, 65_537], 1f, null) { PromptTruncated = true },
        ];
        TokenStoreWriter.Write(store, new WideTokenizer(), "wide", ScoringToken.ImEnd, 8, null, writer =>
        {
            foreach (TokenizedPair pair in pairs) writer.Add(pair, 0, NoStyle);
            return [new TokenStoreSource("made.jsonl", "generic-json", 2, 0, 0, 0)];
        });

        using TokenStore opened = TokenStore.Open(store);
        Assert.That(opened.VocabSize, Is.EqualTo(70_000));
        Assert.That(opened.Metadata.ScoringToken, Is.EqualTo("im_end"));
        for (int i = 0; i < pairs.Length; i++) AssertSame(opened[i], pairs[i], i);
        Assert.That(new FileInfo(store).Length, Is.GreaterThan(TokenStoreFormat.HeaderBytes + 7 * 4), "four bytes per id");
    }

    private static string PrepareSmall(TempFolder folder)
    {
        string store = System.IO.Path.Combine(folder.Path, "pairs.store");
        Prepare(WriteData(folder, 10), store, new DataLoadOptions(), ByteTokenizer.Instance);
        return store;
    }

    /// <summary>The header's little-endian int64 field <paramref name="index"/> (0: pairs, 1: sequences, 2: tokens,
    /// 3: tokens at, 4: offsets at, 5: pairs at, 10: style counts at).</summary>
    private static long HeaderField(string store, int index) =>
        BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(store).AsSpan(24 + 8 * index));

    private static void Patch(string store, long at, Action<Span<byte>> change)
    {
        byte[] bytes = File.ReadAllBytes(store);
        change(bytes.AsSpan((int)at));
        File.WriteAllBytes(store, bytes);
    }

    private static DataFormatException ReadAll(string store)
    {
        return Assert.Throws<DataFormatException>(() =>
        {
            using TokenStore opened = TokenStore.Open(store);
            foreach (TokenizedPair _ in opened) { }
        })!;
    }

    [Test]
    public void ACutShortStoreIsAnErrorNamingTheFile()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        byte[] bytes = File.ReadAllBytes(store);
        File.WriteAllBytes(store, bytes[..(bytes.Length - 10)]);

        DataFormatException e = ReadAll(store);
        Assert.That(e.Message, Does.Contain(store).And.Contain("cut short"));
        File.WriteAllBytes(store, bytes[..100]);
        Assert.That(ReadAll(store).Message, Does.Contain("shorter than the 128-byte header"));
    }

    [Test]
    public void AWrongMagicOrVersionIsAnError()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        Patch(store, 8, bytes => BinaryPrimitives.WriteUInt32LittleEndian(bytes, 99));
        Assert.That(ReadAll(store).Message, Does.Contain("format version 99"));
        Patch(store, 0, bytes => bytes[0] = (byte)'X');
        Assert.That(ReadAll(store).Message, Does.Contain("wrong magic"));
        Assert.That(TokenStore.IsTokenStore(store), Is.False);
    }

    [Test]
    public void AnOffsetOutOfRangeIsAnErrorNamingThePair()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        long offsetsAt = HeaderField(store, 4);
        // Sequence 6 is pair 3's chosen one: its end offset (entry 7) far past the token array.
        Patch(store, offsetsAt + 7 * 8, bytes => BinaryPrimitives.WriteInt64LittleEndian(bytes, 1L << 40));

        using TokenStore opened = TokenStore.Open(store);
        Assert.DoesNotThrow(() => _ = opened[2], "pairs before the damage still read");
        var e = Assert.Throws<DataFormatException>(() => _ = opened[3])!;
        Assert.That(e.Message, Does.Contain(store).And.Contain("pair 3").And.Contain("sequence 6"));
    }

    [Test]
    public void ANegativeStyleCountIsAnErrorNamingThePair()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        // Pair 1's record starts one record in; its chosen response's header count is the second int32.
        Patch(store, HeaderField(store, 10) + TokenStoreFormat.StyleRecordBytes + 4, bytes => BinaryPrimitives.WriteInt32LittleEndian(bytes, -1));

        using TokenStore opened = TokenStore.Open(store);
        Assert.That(opened.Styles[0].Chosen.Characters, Is.GreaterThan(0), "pairs before the damage still read");
        var e = Assert.Throws<DataFormatException>(() => _ = opened.Styles[1])!;
        Assert.That(e.Message, Does.Contain(store).And.Contain("pair 1: a negative style count"));
    }

    [Test]
    public void ASequenceIdOutOfRangeIsAnError()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        long pairsAt = HeaderField(store, 5);
        Patch(store, pairsAt + 48 + 8, bytes => BinaryPrimitives.WriteInt64LittleEndian(bytes, 1000));

        using TokenStore opened = TokenStore.Open(store);
        var e = Assert.Throws<DataFormatException>(() => _ = opened[1])!;
        Assert.That(e.Message, Does.Contain("pair 1: rejected sequence 1000"));
    }

    [Test]
    public void AHeaderSectionOutsideTheFileIsAnError()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        Patch(store, 24, bytes => BinaryPrimitives.WriteInt64LittleEndian(bytes, 1_000_000));
        Assert.That(ReadAll(store).Message, Does.Contain(store));
    }

    [Test]
    public void AnInterruptedWriteLeavesThePreviousStore()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        byte[] before = File.ReadAllBytes(store);

        Assert.Throws<InvalidOperationException>(() =>
            TokenStoreWriter.Write(store, ByteTokenizer.Instance, "byte", ScoringToken.EndOfText, MaxLength, null, writer =>
            {
                writer.Add(new TokenizedPair([1, 2, 3], [4, 5]), 0, NoStyle);
                throw new InvalidOperationException("interrupted");
            }));

        Assert.That(File.ReadAllBytes(store), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(folder.Path).Select(System.IO.Path.GetFileName), Is.EquivalentTo(new[] { "pairs.jsonl", "pairs.store" }),
            "no temp or spill file is left");
        using TokenStore opened = TokenStore.Open(store);
        Assert.That(opened, Has.Count.EqualTo(10));
    }

    [Test]
    public void ThePrefetchedOrderIsAPermutationPerEpochAndTheDataOrder()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        using TokenStore opened = TokenStore.Open(store);
        var order = new DataOrder(5, opened.Count);
        using var feed = new PairPrefetcher(opened, seed: 5, position: 3, ahead: 4);

        for (long p = 3; p < 3 + 2 * opened.Count; p++)
        {
            TokenizedPair next = feed.Next();
            Assert.That(next.Chosen, Is.EqualTo(opened[order[p]].Chosen), $"position {p}");
        }
        var epochOne = Enumerable.Range(0, opened.Count).Select(p => order[p]);
        Assert.That(epochOne, Is.EquivalentTo(Enumerable.Range(0, opened.Count)), "an epoch visits every pair once");
    }

    [Test]
    public void ADamagedPairMeetsThePrefetcherAndSurfacesOnTheCaller()
    {
        using var folder = new TempFolder();
        string store = PrepareSmall(folder);
        Patch(store, HeaderField(store, 5), bytes => BinaryPrimitives.WriteInt64LittleEndian(bytes, -1));
        using TokenStore opened = TokenStore.Open(store);
        using var feed = new PairPrefetcher(opened, seed: 1, position: 0, ahead: 2);

        var e = Assert.Throws<DataFormatException>(() =>
        {
            for (int i = 0; i < opened.Count; i++) feed.Next();
        })!;
        Assert.That(e.Message, Does.Contain("pair 0: chosen sequence -1"));
    }

    [Test]
    public void TheTokenizerFingerprintTellsTokenizersApartByWhatTheyDo()
    {
        string byteOnce = TokenizerFingerprint.Of(ByteTokenizer.Instance), byteAgain = TokenizerFingerprint.Of(ByteTokenizer.Instance);
        Assert.That(byteAgain, Is.EqualTo(byteOnce));
        Assert.That(TokenizerFingerprint.Of(new WideTokenizer()), Is.Not.EqualTo(byteOnce));
        Assert.That(byteOnce, Does.Match("^[0-9a-f]{16}$"));
    }
}
