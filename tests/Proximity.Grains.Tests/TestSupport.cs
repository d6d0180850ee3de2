using System.Text;
using Proximity.Grains.Outputs;

namespace Proximity.Grains.Tests;

/// <summary>Monitoring time the test moves by hand; timers stay on real time.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

public sealed record Published(string Topic, string Payload);

/// <summary>An MQTT publisher that records what the outputs send and lets a test wait for a message.</summary>
public sealed class RecordingMqtt : IMqttPublisher
{
    private readonly List<Published> _messages = [];
    private readonly List<(Func<Published, bool> Match, TaskCompletionSource<Published> Done)> _waiters = [];

    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var m = new Published(topic, Encoding.UTF8.GetString(payload.Span));
        lock (_messages)
        {
            _messages.Add(m);
            foreach (var w in _waiters.Where(w => w.Match(m)).ToList())
            {
                _waiters.Remove(w);
                w.Done.TrySetResult(m);
            }
        }
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<Published> Messages { get { lock (_messages) return _messages.ToArray(); } }

    /// <summary>The first message (already sent or still to come) that matches.</summary>
    public Task<Published> WaitFor(Func<Published, bool> match, string what)
    {
        var done = new TaskCompletionSource<Published>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_messages)
        {
            if (_messages.FirstOrDefault(match) is { } m) return Task.FromResult(m);
            _waiters.Add((match, done));
        }
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t =>
            t.IsCompletedSuccessfully ? t.Result : throw new TimeoutException($"no MQTT message {what} within 30 s; sent: {string.Join(", ", Messages.Select(x => x.Topic))}"),
            TaskScheduler.Default);
    }
}
