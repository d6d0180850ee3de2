using System.Diagnostics;

namespace Proximity.Simulator.Reporting;

/// <summary>
/// A progress line on stderr every interval: rewritten in place on a terminal, one line per update when
/// redirected (so logs stay readable). The caller supplies the line; this only paces and prints it.
/// </summary>
public sealed class ProgressDisplay : IAsyncDisposable
{
    private readonly TextWriter _writer;
    private readonly Func<double, string> _line;
    private readonly bool _inPlace;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProgressDisplay(TextWriter writer, TimeSpan interval, Func<double, string> line, bool enabled = true)
    {
        _writer = writer;
        _line = line;
        _inPlace = enabled && ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        _loop = enabled ? RunAsync(interval) : Task.CompletedTask;
    }

    private async Task RunAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        var sw = Stopwatch.StartNew();
        double last = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                double now = sw.Elapsed.TotalSeconds;
                string text = _line(now - last);
                last = now;
                if (_inPlace) _writer.Write($"\r{text,-110}");
                else _writer.WriteLine(text);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        if (_inPlace) _writer.WriteLine();
        _stop.Dispose();
    }
}
