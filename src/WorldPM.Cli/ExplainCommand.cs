using System.CommandLine;
using Spectre.Console;
using WorldPM.Checkpoints;
using WorldPM.Explain;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm explain MODEL_DIR --prompt TEXT --response TEXT [--method grad-input|integrated-gradients|shapley]</c>:
/// how much each token (gradient methods) or word (Shapley sampling) of the prompt and the response adds to the
/// reward. Prints the reward, the method's check of its sum and one row per unit; on a terminal the text is shaded
/// by attribution too. <c>--json</c> prints one JSON object instead (<see cref="AttributionJson"/>), <c>--html FILE</c>
/// also writes the shaded text as a self-contained page (atomically).
/// </summary>
internal static class ExplainCommand
{
    private sealed record Arguments(string ModelDirectory, string Prompt, string Response, string Method, int? Steps, int? Samples,
        int Seed, bool Json, string? Html, string? Tokenizer, bool AllowNonFinite);

    public static Command Create(IAnsiConsole? terminal)
    {
        var model = CommonOptions.ModelDirectory();
        var prompt = new Option<string>("--prompt") { Description = "The user's message the response answers (may be empty).", HelpName = "TEXT", Required = true };
        var response = new Option<string>("--response") { Description = "The response whose reward is explained.", HelpName = "TEXT", Required = true };
        var method = new Option<string>("--method")
        {
            Description = "grad-input: gradient x embedding, one backward; integrated-gradients: along the path from every word a " +
                "space to the input (reports completeness); shapley: per word, permutation sampling with standard errors (reports efficiency).",
            DefaultValueFactory = _ => AttributionMethods.IntegratedGradients,
            HelpName = string.Join('|', AttributionMethods.Names),
        }.Must(AttributionMethods.Names.Contains, "one of " + string.Join(", ", AttributionMethods.Names));
        // --steps and --samples have no default value so that null says they were not given: each belongs to one
        // method, and giving it with another is refused rather than silently ignored (Run).
        var steps = new Option<int?>("--steps")
        {
            Description = $"Integrated gradients only: points on the path. Default: {IntegratedGradients.DefaultSteps}.",
            HelpName = "N",
        }.AtLeast(1);
        var samples = new Option<int?>("--samples")
        {
            Description = $"Shapley only: sampled permutations of the words. Default: {ShapleySampling.DefaultSamples}.",
            HelpName = "K",
        }.AtLeast(2);
        var seed = new Option<int>("--seed") { Description = "Shapley: seed of the permutations.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: reward, check, and every unit's text span, tokens, value and standard error." };
        var html = new Option<string?>("--html") { Description = "Also write the shaded prompt and response as one self-contained HTML file (values on hover).", HelpName = "FILE" };
        var tokenizer = CommonOptions.Tokenizer("the tokenizer files in MODEL_DIR or its run directory, else byte");
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var command = new Command("explain", "Attribute a response's reward to its tokens or words (gradient x input, integrated gradients, Shapley sampling).")
        {
            model, prompt, response, method, steps, samples, seed, json, html, tokenizer, allowNonFinite,
        };
        command.SetAction(r => Run(new Arguments(r.GetValue(model)!, r.GetValue(prompt)!, r.GetValue(response)!, r.GetValue(method)!,
            r.GetValue(steps), r.GetValue(samples), r.GetValue(seed), r.GetValue(json), r.GetValue(html), r.GetValue(tokenizer),
            r.GetValue(allowNonFinite)), r.InvocationConfiguration.Output, terminal, BackendSelection.Of(r)));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, IAnsiConsole? terminal, Backend backend)
    {
        if (a.Steps is not null && a.Method != AttributionMethods.IntegratedGradients)
            throw new UsageException($"--steps is for --method {AttributionMethods.IntegratedGradients}; --method {a.Method} does not use it");
        if (a.Samples is not null && a.Method != AttributionMethods.Shapley)
            throw new UsageException($"--samples is for --method {AttributionMethods.Shapley}; --method {a.Method} does not use it");
        if (string.IsNullOrWhiteSpace(a.Response)) throw new UsageException("--response is empty; give the text whose reward to explain");
        if (a.Html is not null && Path.GetDirectoryName(Path.GetFullPath(a.Html)) is { } folder && !Directory.Exists(folder))
            throw new UsageException($"--html: folder '{folder}' does not exist");
        CheckpointInputs m = CheckpointInputs.Resolve(a.ModelDirectory, a.Tokenizer, maxLength: null, a.AllowNonFinite);
        ExplainedSequence sequence;
        try
        {
            sequence = ExplainedSequence.Build(new ChatTemplate(m.Tokenizer, m.Config.ScoringToken), PromptJson.FromText(a.Prompt), a.Response,
                m.Config.MaxPositionEmbeddings);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--response: {e.Message.Split(" (Parameter")[0]}");
        }

        using var context = WorldPMContext.Create(backend);
        using RewardModel rewardModel = m.Load(context);
        Attribution attribution = a.Method switch
        {
            AttributionMethods.GradientTimesInput => GradientTimesInput.Explain(rewardModel, sequence),
            AttributionMethods.Shapley => ShapleySampling.Explain(rewardModel, sequence, a.Samples ?? ShapleySampling.DefaultSamples, a.Seed),
            _ => IntegratedGradients.Explain(rewardModel, sequence, a.Steps ?? IntegratedGradients.DefaultSteps),
        };

        if (a.Html is not null) AtomicFile.WriteAllText(a.Html, AttributionHtml.Render(sequence, attribution, m.Checkpoint));
        if (a.Json) output.WriteLine(JsonLines.Line(AttributionJson.Of(sequence, attribution, m.Checkpoint)));
        else if (terminal is not null) AttributionText.WriteTerminal(terminal, sequence, attribution);
        else AttributionText.WritePlain(output, attribution);
        if (a.Html is not null && !a.Json) output.WriteLine($"wrote {a.Html}");
        return 0;
    }
}
