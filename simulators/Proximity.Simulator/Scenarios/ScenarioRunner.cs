using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MQTTnet.Exceptions;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Models;
using Proximity.Simulator.Mqtt;
using Proximity.Simulator.Reporting;

namespace Proximity.Simulator.Scenarios;

public sealed record ScenarioRunOptions
{
    public BrokerOptions Broker { get; init; } = new();
    /// <summary>Time acceleration: simulated seconds per real second.</summary>
    public double Speed { get; init; } = 1;
    public string? AlertsUser { get; init; }
    public string? AlertsPassword { get; init; }
    /// <summary>How long to keep listening for alerts after the last device message (real time).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromSeconds(2);
    public int ConnectConcurrency { get; init; } = 64;
    public bool Progress { get; init; } = true;
    /// <summary>Where notify, command and alert lines go.</summary>
    public TextWriter Log { get; init; } = Console.Out;
    public TextWriter ProgressWriter { get; init; } = Console.Error;
}

public sealed record ReceivedAlert(string Topic, string Type, string? Severity, string? OffenderId, string? DeviceId, bool Cleared,
    [property: System.Text.Json.Serialization.JsonIgnore] string Json);

public sealed record ScenarioSummary
{
    public int Devices { get; init; }
    public double SimulatedSeconds { get; init; }
    public double RealSeconds { get; init; }
    public double Speed { get; init; }
    public long Messages { get; init; }
    public long Fixes { get; init; }
    public long Events { get; init; }
    public long NoFix { get; init; }
    public long StoreAndForwardUploads { get; init; }
    public long Duplicates { get; init; }
    public long Reordered { get; init; }
    public long DroppedFromStore { get; init; }
    public long Commands { get; init; }
    public long Notifies { get; init; }
    public long Errors { get; init; }
    public int Alerts { get; init; }
    public IReadOnlyDictionary<string, int> AlertsByType { get; init; } = new Dictionary<string, int>();
    public double? AckP50Ms { get; init; }
    public double? AckP99Ms { get; init; }
    public IReadOnlyList<ReceivedAlert> ReceivedAlerts { get; init; } = [];
    public IReadOnlyList<DeviceSummary> PerDevice { get; init; } = [];
}

public sealed record DeviceSummary(string Id, string Role, long Fixes, long Events, long NoFix, long Uploads, long Duplicates,
    long Reordered, long Commands, double IntervalSeconds, double BatteryPercent);

/// <summary>Runs a scenario's devices against a broker in (accelerated) simulated time.</summary>
public sealed class ScenarioRunner(Scenario scenario, ScenarioRunOptions options)
{
    private readonly ConcurrentQueue<ReceivedAlert> _alerts = new();
    private readonly LatencyHistogram _ack = new();
    private readonly Lock _logLock = new();
    private long _messages, _errors, _notifies;
    private SimClock? _clock;

    public async Task<ScenarioSummary> RunAsync(CancellationToken ct)
    {
        if (options.Broker.Problem() is { } bp) throw new ScenarioException(bp);
        var sessions = scenario.Devices.Select(d => new Session(new DeviceLink(options.Broker, d.Options.Id, d.Secret))).ToList();
        AlertListener? listener = null;
        string? alertsUser = options.AlertsUser ?? scenario.AlertsUser;
        try
        {
            if (alertsUser is not null)
            {
                listener = new AlertListener(options.Broker, alertsUser, options.AlertsPassword ?? scenario.AlertsPassword, OnAlert);
                await listener.StartAsync(ct);
            }
            await ConnectAllAsync(sessions, ct);

            // The simulated clock starts once every device is connected, so no device misses the beginning.
            var start = scenario.Start ?? TruncateToMs(DateTimeOffset.UtcNow);
            _clock = new SimClock(start, options.Speed);
            for (int i = 0; i < sessions.Count; i++)
            {
                var d = scenario.Devices[i];
                sessions[i].Device = new VirtualDevice(d.Options with { FirstSeq = start.ToUnixTimeMilliseconds() }, d.Movement(new Random(Seeds.For(scenario.Seed, i))), start,
                    new Random(Seeds.For(scenario.Seed, i, 1)));
            }
            var end = start.AddSeconds(scenario.DurationSeconds);
            Log($"scenario: {sessions.Count} devices, {scenario.DurationSeconds:0} s simulated from {DevicePayload.Time(start)} at {options.Speed:0.##}x");

            await using (new ProgressDisplay(options.ProgressWriter, TimeSpan.FromSeconds(1), ProgressLine, options.Progress))
                await Task.WhenAll(sessions.Select(s => RunDeviceAsync(s, end, ct)));

            if (listener is not null && !ct.IsCancellationRequested) await Task.Delay(options.Linger, CancellationToken.None);
            return Summarise(sessions);
        }
        finally
        {
            await Task.WhenAll(sessions.Select(s => s.Link.DisposeAsync().AsTask()));
            if (listener is not null) await listener.DisposeAsync();
        }
    }

    private string ProgressLine(double seconds)
    {
        var interval = _ack.TakeInterval();
        var sim = _clock is { } c ? (c.Now - c.Start).TotalSeconds : 0;
        return FormattableString.Invariant(
            $"sim {sim,7:0}s  msgs {Interlocked.Read(ref _messages),8}  {interval.Count / Math.Max(seconds, 1e-3),7:0}/s  ack {interval.Format()}  alerts {_alerts.Count}  notify {Interlocked.Read(ref _notifies)}  errors {Interlocked.Read(ref _errors)}");
    }

    private async Task ConnectAllAsync(List<Session> sessions, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(Math.Max(1, options.ConnectConcurrency));
        await Task.WhenAll(sessions.Select(async s =>
        {
            await gate.WaitAsync(ct);
            try
            {
                s.Link.Received += m => OnInbound(s, m);
                await s.Link.ConnectAsync(subscribe: true, ct);
            }
            catch (Exception e) when (e is MqttCommunicationException or MqttLinkException or System.Net.Sockets.SocketException)
            {
                throw new ScenarioException($"device {s.Link.DeviceId}: cannot connect to {options.Broker.Host}:{options.Broker.Port}: {e.Message}");
            }
            finally { gate.Release(); }
        }));
    }

    private async Task RunDeviceAsync(Session s, DateTimeOffset end, CancellationToken ct)
    {
        var clock = _clock!;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                while (s.Commands.TryDequeue(out var command))
                    Log($"{Elapsed(s.Device.Now)} {s.Device.Id} command: {s.Device.ApplyCommand(command)}");
                var target = s.Device.NextWakeAt;
                if (target > end) target = end;
                if (target > s.Device.Now && await clock.WaitUntilAsync(target, s.Wake, ct)) continue;
                await PublishAsync(s, s.Device.Advance(target), ct);
                if (target >= end) break;
            }
            await PublishAsync(s, s.Device.Finish(), ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Interrupted: the summary still covers what was sent.
        }
    }

    private async Task PublishAsync(Session s, List<DeviceMessage> messages, CancellationToken ct)
    {
        if (messages.Count > 0 && !s.Link.IsConnected) await ReconnectAsync(s, ct);
        foreach (var m in messages)
        {
            long t0 = Stopwatch.GetTimestamp();
            // A real device keeps a message it could not deliver and sends it again (a few times, then counts it lost).
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await s.Link.PublishAsync(m.Topic, m.Payload, ct);
                    _ack.RecordTicks(Stopwatch.GetTimestamp() - t0);
                    Interlocked.Increment(ref _messages);
                    break;
                }
                catch (Exception e) when (e is MqttCommunicationException or MqttLinkException or MqttClientNotConnectedException)
                {
                    bool sendAgain = e is not MqttLinkException { SendAgain: false } && attempt < MaxSendAttempts;
                    if (!sendAgain)
                    {
                        if (Interlocked.Increment(ref _errors) <= 10) Log($"{s.Device.Id}: publish failed: {e.Message}");
                        break;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
                    if (!s.Link.IsConnected) await ReconnectAsync(s, ct);
                }
            }
        }
    }

    private const int MaxSendAttempts = 5;

    // A real device reconnects after a broken connection (for example a server restart).
    private async Task ReconnectAsync(Session s, CancellationToken ct)
    {
        try
        {
            await s.Link.ConnectAsync(subscribe: true, ct);
            Log($"{Elapsed(s.Device.Now)} {s.Device.Id} reconnected");
        }
        catch (Exception e) when (e is MqttCommunicationException or MqttLinkException or System.Net.Sockets.SocketException)
        {
            if (Interlocked.Increment(ref _errors) <= 10) Log($"{s.Device.Id}: reconnect failed: {e.Message}");
        }
    }

    private void OnInbound(Session s, InboundMessage m)
    {
        if (m.Kind == "command")
        {
            s.Commands.Enqueue(m.Payload);
            s.Wake.Release();
            return;
        }
        if (m.Kind == "notify")
        {
            Interlocked.Increment(ref _notifies);
            Log($"{Elapsed(_clock?.Now)} {m.DeviceId} notify: {Describe(m.Payload)}");
        }
    }

    private void OnAlert(string topic, byte[] payload)
    {
        var alert = ParseAlert(topic, payload);
        _alerts.Enqueue(alert);
        Log($"{Elapsed(_clock?.Now)} alert {(alert.Cleared ? "cleared" : "raised")} {alert.Type} [{alert.Severity}] offender {alert.OffenderId} device {alert.DeviceId}");
    }

    internal static ReceivedAlert ParseAlert(string topic, byte[] payload)
    {
        string json = Encoding.UTF8.GetString(payload);
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var r = doc.RootElement;
            string? Str(string name) => r.ValueKind == JsonValueKind.Object && r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            bool cleared = r.ValueKind == JsonValueKind.Object && r.TryGetProperty("clearedAt", out var c) && c.ValueKind == JsonValueKind.String;
            return new ReceivedAlert(topic, Str("type") ?? "?", Str("severity"), Str("offenderId"), Str("deviceId"), cleared, json);
        }
        catch (JsonException)
        {
            return new ReceivedAlert(topic, "(not JSON)", null, null, null, false, json);
        }
    }

    private static string Describe(byte[] payload)
    {
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var r = doc.RootElement;
            string? Str(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return $"{Str("level") ?? "?"}: {Str("message")} (alert {Str("alertId")})";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Encoding.UTF8.GetString(payload);
        }
    }

    private ScenarioSummary Summarise(List<Session> sessions)
    {
        var stats = sessions.Select(s => s.Device.Stats).ToList();
        var alerts = _alerts.ToArray();
        var ack = _ack.Total();
        return new ScenarioSummary
        {
            Devices = sessions.Count,
            SimulatedSeconds = scenario.DurationSeconds,
            RealSeconds = Math.Round(_clock!.RealElapsed.TotalSeconds, 3),
            Speed = options.Speed,
            Messages = Interlocked.Read(ref _messages),
            Fixes = stats.Sum(x => x.Fixes),
            Events = stats.Sum(x => x.Events),
            NoFix = stats.Sum(x => x.NoFix),
            StoreAndForwardUploads = stats.Sum(x => x.Uploads),
            Duplicates = stats.Sum(x => x.Duplicates),
            Reordered = stats.Sum(x => x.Reordered),
            DroppedFromStore = stats.Sum(x => x.DroppedFromStore),
            Commands = stats.Sum(x => x.Commands),
            Notifies = Interlocked.Read(ref _notifies),
            Errors = Interlocked.Read(ref _errors),
            Alerts = alerts.Count(a => !a.Cleared),
            AlertsByType = alerts.Where(a => !a.Cleared).GroupBy(a => a.Type).ToDictionary(g => g.Key, g => g.Count()),
            AckP50Ms = ack.P50Ms,
            AckP99Ms = ack.P99Ms,
            ReceivedAlerts = alerts,
            PerDevice = sessions.Select(x => x.Device).Select(d => new DeviceSummary(d.Id, d.Role.ToString().ToLowerInvariant(),
                d.Stats.Fixes, d.Stats.Events, d.Stats.NoFix, d.Stats.Uploads, d.Stats.Duplicates, d.Stats.Reordered, d.Stats.Commands,
                d.IntervalSeconds, Math.Round(d.BatteryPercent, 1))).ToList(),
        };
    }

    private string Elapsed(DateTimeOffset? t) =>
        _clock is { } c && t is { } v ? $"+{(v - c.Start).TotalSeconds,6:0.0}s" : "      ";

    private void Log(string line)
    {
        lock (_logLock) options.Log.WriteLine(line);
    }

    private static DateTimeOffset TruncateToMs(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    private sealed class Session(DeviceLink link)
    {
        /// <summary>Set when the simulated clock starts.</summary>
        public VirtualDevice Device { get; set; } = null!;
        public DeviceLink Link { get; } = link;
        public ConcurrentQueue<byte[]> Commands { get; } = new();
        public SemaphoreSlim Wake { get; } = new(0);
    }
}
