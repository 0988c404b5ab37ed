using System.Text;
using Spectre.Console;

namespace WorldPM.Cli.Tests;

/// <summary>
/// A terminal whose size reads differently from one look to the next (no window size known: Spectre then asks
/// `tput`, at every redraw, and on a loaded machine the answers can differ or be 0). Terminal.PinSize fixes the size
/// once, so a live bar's redraws all see one height; unpinned, Spectre's overflow cropping threw on its refresh
/// thread and ended the process (seen in a fresh Debian root).
/// </summary>
public class TerminalSizeTests
{
    /// <summary>Console output whose height alternates between 0 and 24 at every read.</summary>
    private sealed class FlickeringOutput(TextWriter writer) : IAnsiConsoleOutput
    {
        private int _reads;
        public TextWriter Writer { get; } = writer;
        public bool IsTerminal => true;
        public int Width => 120;
        public int Height => Interlocked.Increment(ref _reads) % 2 == 0 ? 24 : 0;
        public void SetEncoding(Encoding encoding) { }
    }

    [Test]
    public void APinnedConsoleKeepsOneUsableHeightAndItsBarRunsToTheEnd()
    {
        using var screen = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new FlickeringOutput(screen),
        });

        Terminal.PinSize(console);

        int[] heights = Enumerable.Range(0, 6).Select(_ => console.Profile.Height).ToArray();
        Assert.That(heights.Distinct().Count(), Is.EqualTo(1), "one height for every look: " + string.Join(",", heights));
        Assert.That(heights[0], Is.GreaterThanOrEqualTo(2));
        int last = LiveProgressBar.Show(console, "step 0/40", 40, 0, bar =>
        {
            for (int step = 1; step <= 40; ++step)
            {
                bar.Report(step, $"step {step}/40");
                if (step % 10 == 0) bar.WriteLine($"line at {step}");
                Thread.Sleep(5);
            }
            return 40;
        });
        Assert.That(last, Is.EqualTo(40));
        Assert.That(screen.ToString(), Does.Contain("step 40/40").And.Contain("line at 40"));
    }
}
