using System.Text.Json;
using Proximity.Simulator.Mqtt;

namespace Proximity.EndToEnd.Tests;

/// <summary>An alert as a control room sees it on <c>proximity/v1/alerts/#</c>.</summary>
public sealed record ObservedAlert(string Id, string Type, string? OffenderId, string? DeviceId, bool Cleared);

/// <summary>A control-room integration of its own that records every alert and lets a test wait for one.</summary>
public sealed class AlertObserver : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<ObservedAlert> _alerts = [];
    private readonly List<(Func<ObservedAlert, bool> Match, TaskCompletionSource<ObservedAlert> Done)> _waiters = [];
    private AlertListener? _listener;

    public static async Task<AlertObserver> ConnectAsync(int port, string user, string password, CancellationToken ct)
    {
        var observer = new AlertObserver();
        observer._listener = new AlertListener(new BrokerOptions { Host = "127.0.0.1", Port = port }, user, password, observer.OnAlert);
        await observer._listener.StartAsync(ct);
        return observer;
    }

    public IReadOnlyList<ObservedAlert> Alerts
    {
        get { lock (_lock) return [.. _alerts]; }
    }

    /// <summary>Completes with the first alert (seen already or later) that matches.</summary>
    public Task<ObservedAlert> WaitForAsync(Func<ObservedAlert, bool> match, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<ObservedAlert>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_alerts.FirstOrDefault(match) is { } seen) return Task.FromResult(seen);
            _waiters.Add((match, done));
        }
        return done.Task.WaitAsync(timeout);
    }

    private void OnAlert(string topic, byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var r = doc.RootElement;
        string? Str(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var alert = new ObservedAlert(Str("id") ?? "", Str("type") ?? "", Str("offenderId"), Str("deviceId"), Str("clearedAt") is not null);
        lock (_lock)
        {
            _alerts.Add(alert);
            for (int i = _waiters.Count - 1; i >= 0; i--)
                if (_waiters[i].Match(alert))
                {
                    _waiters[i].Done.TrySetResult(alert);
                    _waiters.RemoveAt(i);
                }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null) await _listener.DisposeAsync();
    }
}
