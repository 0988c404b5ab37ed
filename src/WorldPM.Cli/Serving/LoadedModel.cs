using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Cli.Serving;

/// <summary>What <c>serve</c> scores with: the model on its context, and the template and length that turn a prompt
/// and a response into its input exactly as <c>score</c> does.</summary>
internal sealed class LoadedModel(WorldPMContext context, RewardModel model, ChatTemplate template, int maxLength) : IDisposable
{
    public RewardModel Model => model;

    /// <summary>The ids of one (prompt, response), cut to the maximum length prompt first.</summary>
    public int[] Encode(IReadOnlyList<WorldPM.Data.ChatTurn> prompt, string response) =>
        template.Encode(prompt, response, maxLength).Ids;

    public void Dispose()
    {
        model.Dispose();
        context.Dispose();
    }
}
