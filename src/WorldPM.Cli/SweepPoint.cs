namespace WorldPM.Cli;

/// <summary>A held-out evaluation during a run: after <paramref name="Step"/> steps that trained on
/// <paramref name="Tokens"/> (non-padding) tokens, the mean BT loss and the pairwise accuracy on the held-out pairs.</summary>
internal sealed record SweepPoint(long Step, long Tokens, double Loss, double Accuracy);
