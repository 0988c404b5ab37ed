using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace WorldPM.Cli.Tests;

/// <summary><c>worldpm serve</c> as a real process: SIGTERM with requests in flight answers them all and exits 0.</summary>
public class ServeProcessTests
{
    [Test]
    public async Task SigtermAnswersTheRequestsInFlightThenExits0()
    {
        using var run = new TrainedRun();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "worldpm.dll"), "serve", run.Checkpoint, "--port", "0", "--max-wait-ms", "2000", "--batch-wait", "always" })
            start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        try
        {
            string? first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Match listening = Regex.Match(first ?? "", @"listening at (http://\S+?)/? ");
            Assert.That(listening.Success, Is.True, $"first line: {first}");
            using var client = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value), Timeout = TimeSpan.FromMinutes(2) };
            while (true)
            {
                Assert.That(process.HasExited, Is.False, () => $"the server exited early: {process.StandardError.ReadToEnd()}");
                HttpResponseMessage ready = await client.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK) break;
                Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "loading");
                await Task.Delay(50);
            }

            var inFlight = Enumerable.Range(0, 3).Select(i => client.PostAsync("/v1/score",
                new StringContent($$"""{"prompt": "Which is larger, 3 or 5?", "response": "{{i}}"}""", Encoding.UTF8))).ToList();
            var waited = Stopwatch.StartNew();
            while (!(await client.GetStringAsync("/metrics")).Contains("worldpm_queue_depth 3\n"))
            {
                Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the three requests never sat in the queue together");
                await Task.Delay(20);
            }
            using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString()])!) await kill.WaitForExitAsync();

            HttpResponseMessage[] answers = await Task.WhenAll(inFlight);
            Assert.That(answers.Select(a => a.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            string rest = await process.StandardOutput.ReadToEndAsync();
            Assert.That(process.ExitCode, Is.EqualTo(0), await process.StandardError.ReadToEndAsync());
            Assert.That(rest, Does.Contain("worldpm serve: stopped"));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
