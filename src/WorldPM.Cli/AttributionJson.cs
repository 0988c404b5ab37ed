using System.Text.Json.Nodes;
using WorldPM.Explain;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>explain --json</c>: one object with the model, method, its steps or samples, the reward, the prompt turns and
/// the response, the check of the sum ("completeness" or "efficiency": sum, expected, baseline_reward,
/// absolute_error, relative_error, standard_error) and "attributions", one per unit: part ("prompt", "response",
/// "template"), turn, start and end (characters of that part's text), text, tokens (ids), value and standard_error
/// (null for the gradient methods).
/// </summary>
internal static class AttributionJson
{
    public static JsonObject Of(ExplainedSequence sequence, Attribution a, string model)
    {
        var json = new JsonObject
        {
            ["model"] = model,
            ["method"] = a.Method,
            ["reward"] = ReportOutput.Finite(a.Reward),
            ["prompt"] = new JsonArray([.. sequence.Prompt.Select(t => (JsonNode)new JsonObject
            {
                ["role"] = ChatTemplate.RoleName(t.Role),
                ["content"] = t.Content,
            })]),
            ["response"] = sequence.Response,
        };
        if (a.Method == AttributionMethods.IntegratedGradients) json["steps"] = a.Steps;
        if (a.Method == AttributionMethods.Shapley) json["samples"] = a.Steps;
        if (a.Check is { } c)
            json["check"] = new JsonObject
            {
                ["name"] = c.Name,
                ["sum"] = ReportOutput.Finite(c.Sum),
                ["expected"] = ReportOutput.Finite(c.Expected),
                ["baseline_reward"] = ReportOutput.Finite(c.BaselineReward),
                ["absolute_error"] = ReportOutput.Finite(c.AbsoluteError),
                ["relative_error"] = ReportOutput.Finite(c.RelativeError),
                ["standard_error"] = c.StandardError is double se ? ReportOutput.Finite(se) : null,
            };
        json["attributions"] = new JsonArray([.. a.Units.Select(u => (JsonNode)new JsonObject
        {
            ["part"] = u.Part.ToString().ToLowerInvariant(),
            ["turn"] = u.Turn,
            ["start"] = u.Start,
            ["end"] = u.End,
            ["text"] = u.Text,
            ["tokens"] = new JsonArray([.. u.TokenIds.Select(id => (JsonNode)id)]),
            ["value"] = ReportOutput.Finite(u.Value),
            ["standard_error"] = u.StandardError is double se ? ReportOutput.Finite(se) : null,
        })]);
        return json;
    }
}
