using Spectre.Console;

namespace WorldPM.Cli;

/// <summary>
/// One live progress bar on an interactive terminal (see <see cref="Terminal"/>): the bar, the percentage,
/// the time left and a description that the work updates (step, loss, accuracy, ...), redrawn in place
/// while the work runs and left on screen at its final state when it ends. Lines the work prints meanwhile
/// go through <see cref="WriteLine"/>, which puts them above the bar instead of tearing it.
/// </summary>
internal sealed class LiveProgressBar
{
    private readonly IAnsiConsole _console;
    private readonly ProgressTask _task;

    private LiveProgressBar(IAnsiConsole console, ProgressTask task)
    {
        _console = console;
        _task = task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> under a bar that goes from <paramref name="start"/> to <paramref name="total"/>
    /// (a resumed run starts part way, so the time left is estimated from the steps this process does).
    /// </summary>
    public static T Show<T>(IAnsiConsole console, string description, double total, double start, Func<LiveProgressBar, T> work)
    {
        ArgumentNullException.ThrowIfNull(console);
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            // The description goes last and does not wrap: in a narrow window its tail is cut, while the bar,
            // the time left and the description's first words (step, loss) stay on one line.
            .Columns(
                new ProgressBarColumn { Width = 20 },
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new TaskDescriptionColumn { Alignment = Justify.Left, Wrap = false })
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape(description), autoStart: true, maxValue: total);
                task.Value = start;
                return work(new LiveProgressBar(console, task));
            });
    }

    /// <summary>Moves the bar to <paramref name="value"/> and shows <paramref name="description"/> beside it.</summary>
    public void Report(double value, string description)
    {
        _task.Description = Markup.Escape(description);
        _task.Value = value;
    }

    /// <summary>Prints <paramref name="text"/> (plain, not markup) above the bar.</summary>
    public void WriteLine(string text) => _console.WriteLine(text);
}
