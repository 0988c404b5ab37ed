using System.Globalization;
using WorldPM.Native;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm demo</c>: the reward head of a preference model, forward and backward, on random hidden states.
/// Three preference pairs are six sequences (chosen ones first) of up to T tokens, right-padded:
/// hidden [6, T, C] -> last-token pooling -> GELU -> linear head (GEMM) -> rewards -> Bradley-Terry loss,
/// then the gradient all the way back to the hidden states.
/// </summary>
internal static class DemoCommand
{
    private const int Pairs = 3, Sequences = 2 * Pairs, Tokens = 5, Channels = 8;

    internal static int Run(TextWriter output, TextWriter error)
    {
        string step = "context creation";
        try
        {
            using var context = WorldPMContext.Create(Backend.Cpu);
            output.WriteLine($"cpu context, {context.NumThreads} threads; {Pairs} pairs = {Sequences} sequences of up to {Tokens} tokens, {Channels} channels");

            using var hidden = context.Allocate<float>(Sequences, Tokens, Channels);
            using var lengths = context.Upload<int>([5, 3, 4, 2, 5, 1]);
            using var head = context.Allocate<float>(Channels, 1);
            hidden.FillNormal(seed: 1);
            head.FillNormal(seed: 2, stddev: 0.5f);
            output.WriteLine($"lengths       {Format(lengths.ToArray())}");

            using var pooled = context.Allocate<float>(Sequences, Channels);
            using var activated = context.Allocate<float>(Sequences, Channels);
            using var rewards = context.Allocate<float>(Sequences);
            using var loss = context.Allocate<float>(1);
            using var chosen = rewards.View(0, Pairs);
            using var rejected = rewards.View(Pairs, Pairs);

            step = "last-token pooling (forward)";
            Ops.LastTokenPoolForward(context, hidden, lengths, pooled, Sequences, Tokens, Channels);
            step = "GELU (forward)";
            Ops.GeluForward(context, pooled, activated, GeluKind.Tanh);
            step = "GEMM (reward head)";
            Ops.Gemm(context, activated, head, rewards, m: Sequences, n: 1, k: Channels);
            step = "Bradley-Terry loss (forward)";
            Ops.BradleyTerryLossForward(context, chosen, rejected, loss);
            output.WriteLine($"r(chosen)     {Format(chosen.ToArray())}");
            output.WriteLine($"r(rejected)   {Format(rejected.ToArray())}");
            output.WriteLine($"BT loss       {Format(loss.ToArray())}");

            using var drewards = context.Allocate<float>(Sequences);
            using var dchosen = drewards.View(0, Pairs);
            using var drejected = drewards.View(Pairs, Pairs);
            using var dactivated = context.Allocate<float>(Sequences, Channels);
            using var dpooled = context.Allocate<float>(Sequences, Channels);
            using var dhidden = context.Allocate<float>(Sequences, Tokens, Channels);
            using var norm = context.Allocate<float>(1);

            step = "Bradley-Terry loss (backward)";
            Ops.BradleyTerryLossBackward(context, chosen, rejected, dchosen, drejected);
            output.WriteLine($"dL/dchosen    {Format(dchosen.ToArray())}");
            output.WriteLine($"dL/drejected  {Format(drejected.ToArray())}");
            step = "GEMM (head backward)";
            Ops.Gemm(context, drewards, head, dactivated, m: Sequences, n: Channels, k: 1, transposeB: true);
            step = "GELU (backward)";
            Ops.GeluBackward(context, dactivated, pooled, dpooled, GeluKind.Tanh);
            step = "last-token pooling (backward)";
            Ops.LastTokenPoolBackward(context, dpooled, lengths, dhidden, Sequences, Tokens, Channels);
            step = "global norm";
            Ops.GlobalNorm(context, [dhidden], norm);
            output.WriteLine($"|dL/dhidden|  {Format(norm.ToArray())}");
            return 0;
        }
        catch (WorldPMUnsupportedException e)
        {
            error.WriteLine($"worldpm demo: stopped at {step}: the cpu backend does not implement it yet ({e.Message})");
            return 3;
        }
    }

    private static string Format<T>(T[] values) where T : IFormattable =>
        string.Join("  ", values.Select(v => v.ToString(v is float ? "F5" : null, CultureInfo.InvariantCulture)));
}
