using WorldPM.Losses;

namespace WorldPM.Training;

/// <summary>
/// What a training run minimizes, as its checkpoints record it: the loss's <see cref="IPreferenceLoss.Name"/> and
/// <see cref="IPreferenceLoss.Settings"/>, and the data field its margins came from ("" for none). A resume is checked
/// against it; <c>worldpm eval</c> reports its loss column with it (<see cref="TrainingRun.RecordedObjective"/>).
/// </summary>
public sealed record RunObjective(string Loss, string Settings, string MarginFrom);
