using System.Diagnostics;
using System.Text.Json;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Models;
using Proximity.Simulator.Mqtt;
using Proximity.Simulator.Reporting;

namespace Proximity.Simulator.Load;

/// <summary>
/// Load mode: connects N devices (one MQTT connection each, set up concurrently with a bound), publishes
/// fixes at a total rate spread round-robin over the devices, and listens to the alerts topic as an
/// integration to measure publish → alert latency. Publishes are paced by a few workers, each owning a slice
/// of the devices, and bounded by a global in-flight limit, so a slow broker shows up as a lower rate and
/// higher latency rather than as unbounded memory.
/// </summary>
public sealed class LoadRunner(LoadOptions options)
{
    private readonly LatencyHistogram _alertLatency = new();
    private readonly LatencyHistogram _ackLatency = new();
    private readonly LatencyHistogram _rawLatency = new();
    private long _rawReceived;
    private readonly Dictionary<string, LoadDevice> _byId = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _alertIds = new(StringComparer.Ordinal);
    private DateTimeOffset? _runStart;
    private long _alertsOther;
    private long _sent, _acked, _publishErrors, _connectErrors, _connected, _alerts, _alertsCleared, _alertsMatched, _commands, _notifies;
    private string _phase = "connecting";

    public async Task<LoadReport> RunAsync(CancellationToken ct)
    {
        if (options.Problem() is { } problem) throw new ArgumentException(problem);
        int n = options.Devices;
        // The zone grid is the whole world's, so that slices run by several processes match one gen-case file.
        int pairs = (options.WorldDevices + 1) / 2;
        var devices = new LoadDevice[n];
        for (int i = 0; i < n; i++)
        {
            var (index, id, secret) = options.Device(i);
            devices[i] = new LoadDevice(index, id, new DeviceLink(options.Broker, id, secret, index));
            _byId[id] = devices[i];
        }

        AlertListener? listener = null;
        long memoryBefore = GC.GetTotalMemory(true);
        var connectTime = Stopwatch.StartNew();
        await using var progress = new ProgressDisplay(options.ProgressWriter, TimeSpan.FromSeconds(1), ProgressLine, options.Progress);
        try
        {
            await ConnectAllAsync(devices, ct);
            connectTime.Stop();
            long clientMemory = GC.GetTotalMemory(true) - memoryBefore;
            var live = devices.Where(d => d.Link.IsConnected).ToArray();
            if (live.Length == 0) throw new MqttLinkException($"no device could connect to {options.Broker.Host}:{options.Broker.Port}");

            if (options.RawSubscribe)
            {
                // The raw-broker comparison: one plain subscriber on every device's positions, no processing.
                listener = new AlertListener(options.Broker, $"sim-raw-{Environment.ProcessId}", null, OnRawPosition, Topics.Prefix + "+/position");
                await listener.StartAsync(ct);
            }
            else
            {
                string alertsUser = options.AlertsUser ?? options.Layout.IntegrationId;
                string? alertsPassword = options.AlertsPassword ?? (options.AlertsUser is null ? options.Layout.Secret(alertsUser) : null);
                listener = await SubscribeAlertsAsync(alertsUser, alertsPassword, ct);
            }

            _phase = "publishing";
            // Sequence numbers continue above any earlier run's (see VirtualDeviceOptions.FirstSeq).
            long firstSeq = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var d in live) d.Seq = firstSeq - 1;
            _runStart = DateTimeOffset.UtcNow;
            _clock.Start();
            using var inflight = new SemaphoreSlim(options.MaxInFlight, options.MaxInFlight);
            int workers = Math.Clamp(Environment.ProcessorCount * 2, 1, live.Length);
            await Task.WhenAll(Enumerable.Range(0, workers).Select(w =>
                PublishSliceAsync(live.Where((_, i) => i % workers == w).ToArray(), options.Rate / workers, pairs, inflight, ct)));
            // From here on a cancellation (Ctrl+C) has only stopped the publishing: still drain and report.
            _phase = "draining";
            var drainDeadline = Stopwatch.StartNew();
            while (inflight.CurrentCount < options.MaxInFlight && drainDeadline.Elapsed < TimeSpan.FromSeconds(30))
                await Task.Delay(10, CancellationToken.None);
            double publishSeconds = _clock.Elapsed.TotalSeconds;
            _phase = "waiting for alerts";
            if (options.RawSubscribe)
            {
                // Every acknowledged fix should reach the subscriber: wait for that, at most the linger time.
                var lingerUntil = Stopwatch.StartNew();
                while (Interlocked.Read(ref _rawReceived) < Interlocked.Read(ref _acked) && lingerUntil.Elapsed.TotalSeconds < options.LingerSeconds && !ct.IsCancellationRequested)
                    await Task.Delay(10, CancellationToken.None);
            }
            else if (listener is not null && !ct.IsCancellationRequested) await Task.Delay(TimeSpan.FromSeconds(options.LingerSeconds), CancellationToken.None);
            return Report(connectTime.Elapsed.TotalSeconds, publishSeconds, clientMemory);
        }
        finally
        {
            _phase = "disconnecting";
            if (listener is not null) await listener.DisposeAsync();
            using var gate = new SemaphoreSlim(options.ConnectConcurrency);
            await Task.WhenAll(devices.Select(async d =>
            {
                await gate.WaitAsync(CancellationToken.None);
                try { await d.Link.DisposeAsync(); }
                finally { gate.Release(); }
            }));
        }
    }

    private async Task<AlertListener?> SubscribeAlertsAsync(string user, string? password, CancellationToken ct)
    {
        var listener = new AlertListener(options.Broker, user, password, OnAlert);
        try
        {
            await listener.StartAsync(ct);
            return listener;
        }
        catch (Exception e) when (e is MqttLinkException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            options.ProgressWriter.WriteLine($"load: cannot subscribe to alerts as {user}: {e.Message} (alert latency will be missing)");
            await listener.DisposeAsync();
            return null;
        }
    }

    private async Task ConnectAllAsync(LoadDevice[] devices, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(options.ConnectConcurrency);
        await Task.WhenAll(devices.Select(async d =>
        {
            await gate.WaitAsync(ct);
            try
            {
                if (options.Subscribe) d.Link.Received += OnInbound;
                await d.Link.ConnectAsync(options.Subscribe, ct);
                Interlocked.Increment(ref _connected);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                if (Interlocked.Increment(ref _connectErrors) <= 5) options.ProgressWriter.WriteLine($"load: {d.Id}: cannot connect: {e.Message}");
            }
            finally { gate.Release(); }
        }));
    }

    private async Task PublishSliceAsync(LoadDevice[] slice, double rate, int pairs, SemaphoreSlim inflight, CancellationToken ct)
    {
        if (slice.Length == 0) return;
        var random = new Random(Seeds.For(options.Layout.Seed, slice[0].Index));
        var gps = new GpsErrorOptions();
        foreach (var d in slice) d.Gps = new GpsErrorModel(gps, random);
        var plane = options.Layout.Plane;
        var duration = TimeSpan.FromSeconds(options.DurationSeconds);
        // Positions follow the wall clock, so a later run continues the motion where an earlier one left it
        // and the server's open episodes end and begin again as they would with real devices.
        double worldStart = (_runStart!.Value - LoadLayout.Epoch).TotalSeconds;
        foreach (var d in slice) d.LastSeconds = worldStart;
        long sent = 0;
        int next = 0;
        while (!ct.IsCancellationRequested)
        {
            var elapsed = _clock.Elapsed;
            if (elapsed >= duration) break;
            long due = (long)(rate * elapsed.TotalSeconds) - sent;
            for (long k = 0; k < due; k++)
            {
                if (!inflight.Wait(0, CancellationToken.None) && !await WaitQuietlyAsync(inflight, ct)) return;
                // Above capacity the backlog (due) grows without end: stop at the duration, not after the backlog.
                if (_clock.Elapsed >= duration)
                {
                    inflight.Release();
                    return;
                }
                var d = slice[next];
                next = (next + 1) % slice.Length;
                double t = worldStart + _clock.Elapsed.TotalSeconds;
                var (truth, speed, heading) = options.Layout.TruePosition(d.Index, pairs, t);
                d.Gps!.Advance(t - d.LastSeconds, SkyView.Open);
                d.LastSeconds = t;
                var measured = d.Gps.Measure(truth, SkyView.Open)!.Value;
                var geo = plane.Unproject(measured.Position);
                long seq = ++d.Seq;
                var fix = new FixRecord(seq, DateTimeOffset.UtcNow, geo.Latitude, geo.Longitude, measured.AccuracyMeters,
                    speed, speed > 0 ? heading : null, 80, "gps");
                var message = DevicePayload.Position(d.Id, fix);
                long t0 = Stopwatch.GetTimestamp();
                d.Remember(seq, t0);
                Interlocked.Increment(ref _sent);
                _ = PublishOneAsync(d, message, t0, inflight, ct);
                sent++;
            }
            try { await Task.Delay(1, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    private static async Task<bool> WaitQuietlyAsync(SemaphoreSlim semaphore, CancellationToken ct)
    {
        try
        {
            await semaphore.WaitAsync(ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task PublishOneAsync(LoadDevice d, DeviceMessage message, long t0, SemaphoreSlim inflight, CancellationToken ct)
    {
        try
        {
            // Not cancelled with the run: a fix once sent is waited for (the client's timeout bounds it), so an
            // interrupted run drains its in-flight fixes instead of counting them as errors.
            await d.Link.PublishAsync(message.Topic, message.Payload, CancellationToken.None);
            _ackLatency.RecordTicks(Stopwatch.GetTimestamp() - t0);
            Interlocked.Increment(ref _acked);
        }
        catch (Exception e)
        {
            if (Interlocked.Increment(ref _publishErrors) <= 5 && !ct.IsCancellationRequested)
                options.ProgressWriter.WriteLine($"load: {d.Id}: publish failed: {e.Message}");
        }
        finally
        {
            inflight.Release();
        }
    }

    private void OnInbound(InboundMessage m)
    {
        if (m.Kind == "command") Interlocked.Increment(ref _commands);
        else if (m.Kind == "notify") Interlocked.Increment(ref _notifies);
    }

    private void OnAlert(string topic, byte[] payload)
    {
        long now = Stopwatch.GetTimestamp();
        var wallNow = DateTimeOffset.UtcNow;
        var match = AlertMatch.Parse(payload);
        if (match is null) return;
        // Alerts decided before this run (escalations or updates of older episodes) say nothing about its latency.
        if (_runStart is not { } runStart || match.DecidedAt is { } decidedAt && decidedAt < runStart.AddSeconds(-1))
        {
            Interlocked.Increment(ref _alertsOther);
            return;
        }
        if (match.Cleared)
        {
            Interlocked.Increment(ref _alertsCleared);
            return;
        }
        // The same alert published again (updated, escalated) is one alert.
        if (match.Id is { } alertId && !_alertIds.TryAdd(alertId, 0))
        {
            Interlocked.Increment(ref _alertsOther);
            return;
        }
        Interlocked.Increment(ref _alerts);
        if (match.DeviceId is { } id && _byId.TryGetValue(id, out var device) && device.PublishedAt(match.Seq) is { } t0)
        {
            Interlocked.Increment(ref _alertsMatched);
            _alertLatency.RecordTicks(now - t0);
        }
        else if (match.DecidedAt is { } decided)
        {
            // Not one of ours (or too old to remember): the deciding fix's device time is the publish time in load mode.
            _alertLatency.RecordMicroseconds((long)((wallNow - decided).TotalMicroseconds));
        }
    }

    private void OnRawPosition(string topic, byte[] payload)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _rawReceived);
        if (!topic.StartsWith(Topics.Prefix, StringComparison.Ordinal)) return;
        int end = topic.IndexOf('/', Topics.Prefix.Length);
        if (end < 0 || !_byId.TryGetValue(topic[Topics.Prefix.Length..end], out var device)) return;
        if (SeqOf(payload) is { } seq && device.PublishedAt(seq) is { } t0) _rawLatency.RecordTicks(now - t0);
    }

    /// <summary>The <c>seq</c> of a single-fix position payload.</summary>
    internal static long? SeqOf(byte[] payload)
    {
        var reader = new Utf8JsonReader(payload);
        try
        {
            while (reader.Read())
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("seq"u8))
                    return reader.Read() && reader.TryGetInt64(out long seq) ? seq : null;
        }
        catch (JsonException)
        {
            // Not ours: no latency for it.
        }
        return null;
    }

    private string ProgressLine(double seconds)
    {
        var ack = _ackLatency.TakeInterval();
        var alerts = _alertLatency.TakeInterval();
        return FormattableString.Invariant(
            $"{_phase,-12} {_clock.Elapsed.TotalSeconds,5:0}s conn {Interlocked.Read(ref _connected)}/{options.Devices}  sent {Interlocked.Read(ref _sent),9}  {ack.Count / Math.Max(seconds, 1e-3),7:0}/s  ack {ack.Format()}  {(options.RawSubscribe ? $"raw delivered {Interlocked.Read(ref _rawReceived)} {_rawLatency.TakeInterval().Format()}" : $"alerts {Interlocked.Read(ref _alerts)} {alerts.Format()}")}  errors {Interlocked.Read(ref _connectErrors) + Interlocked.Read(ref _publishErrors)}");
    }

    private LoadReport Report(double connectSeconds, double publishSeconds, long clientMemory)
    {
        var alerts = _alertLatency.Total();
        var ack = _ackLatency.Total();
        if (options.HistogramPath is { } path)
        {
            using var writer = new StreamWriter(path);
            (options.RawSubscribe ? _rawLatency : _alertLatency).WriteDistribution(writer);
        }
        if (options.FixHistogramPath is { } fixPath)
        {
            using var writer = new StreamWriter(fixPath);
            _ackLatency.WriteDistribution(writer);
        }
        var raw = _rawLatency.Total();
        long rawReceived = Interlocked.Read(ref _rawReceived);
        long acked = Interlocked.Read(ref _acked);
        return new LoadReport
        {
            Devices = options.Devices,
            FirstDevice = options.FirstDevice,
            Connected = (int)Interlocked.Read(ref _connected),
            ConnectSeconds = Math.Round(connectSeconds, 3),
            TargetRate = options.Rate,
            DurationSeconds = Math.Round(publishSeconds, 3),
            FixesSent = Interlocked.Read(ref _sent),
            FixesAcked = acked,
            FixesPerSecond = Math.Round(acked / Math.Max(publishSeconds, 1e-3), 1),
            Alerts = Interlocked.Read(ref _alerts),
            AlertsCleared = Interlocked.Read(ref _alertsCleared),
            AlertsMatched = Interlocked.Read(ref _alertsMatched),
            AlertsOther = Interlocked.Read(ref _alertsOther),
            P50Ms = alerts.P50Ms, P90Ms = alerts.P90Ms, P99Ms = alerts.P99Ms, P999Ms = alerts.P999Ms, MaxMs = alerts.MaxMs,
            AckP50Ms = ack.P50Ms, AckP99Ms = ack.P99Ms, AckP999Ms = ack.P999Ms,
            RawReceived = options.RawSubscribe ? rawReceived : null,
            RawPerSecond = options.RawSubscribe ? Math.Round(rawReceived / Math.Max(publishSeconds, 1e-3), 1) : null,
            RawP50Ms = raw.P50Ms, RawP99Ms = raw.P99Ms, RawP999Ms = raw.P999Ms,
            ConnectErrors = Interlocked.Read(ref _connectErrors),
            PublishErrors = Interlocked.Read(ref _publishErrors),
            Errors = Interlocked.Read(ref _connectErrors) + Interlocked.Read(ref _publishErrors),
            Commands = Interlocked.Read(ref _commands),
            Notifies = Interlocked.Read(ref _notifies),
            ClientMemoryBytes = clientMemory,
        };
    }
}

/// <summary>One load device: its connection, sequence and the publish times of its recent fixes.</summary>
internal sealed class LoadDevice(int index, string id, DeviceLink link)
{
    private const int Remembered = 16;
    private readonly long[] _seqs = new long[Remembered];
    private readonly long[] _ticks = new long[Remembered];

    public int Index { get; } = index;
    public string Id { get; } = id;
    public DeviceLink Link { get; } = link;
    public long Seq { get; set; }
    public double LastSeconds { get; set; }
    public GpsErrorModel? Gps { get; set; }

    public void Remember(long seq, long ticks)
    {
        int slot = (int)(seq % Remembered);
        Volatile.Write(ref _ticks[slot], ticks);
        Volatile.Write(ref _seqs[slot], seq);
    }

    /// <summary>When fix <paramref name="seq"/> was published, if it is among the last few.</summary>
    public long? PublishedAt(long seq)
    {
        int slot = (int)(seq % Remembered);
        if (Volatile.Read(ref _seqs[slot]) != seq) return null;
        long ticks = Volatile.Read(ref _ticks[slot]);
        return Volatile.Read(ref _seqs[slot]) == seq ? ticks : null;
    }
}

/// <summary>What load mode needs from an alert: cleared or raised, and which fix decided it.</summary>
internal sealed record AlertMatch(string? Id, bool Cleared, string? DeviceId, long Seq, DateTimeOffset? DecidedAt)
{
    public static AlertMatch? Parse(byte[] payload)
    {
        try
        {
            using var doc = JsonDocument.Parse(payload);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) return null;
            bool cleared = r.TryGetProperty("clearedAt", out var c) && c.ValueKind == JsonValueKind.String;
            string? alertId = r.TryGetProperty("id", out var idProp) && idProp.ValueKind == JsonValueKind.String ? idProp.GetString() : null;
            string? decidedText = r.TryGetProperty("decidedAt", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            DateTimeOffset? decided = decidedText is not null && DateTimeOffset.TryParse(decidedText, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var dt) ? dt : null;
            if (r.TryGetProperty("evidence", out var ev) && ev.ValueKind == JsonValueKind.Object &&
                ev.TryGetProperty("fixes", out var fixes) && fixes.ValueKind == JsonValueKind.Array)
            {
                // The deciding fix is the one taken at decidedAt; fall back to the newest evidence fix.
                JsonElement? best = null;
                DateTimeOffset bestTime = DateTimeOffset.MinValue;
                foreach (var f in fixes.EnumerateArray())
                {
                    if (!f.TryGetProperty("timestamp", out var ts) || ts.ValueKind != JsonValueKind.String ||
                        !ts.TryGetDateTimeOffset(out var time)) continue;
                    if (decided is { } x && time == x) { best = f; break; }
                    if (time > bestTime) { bestTime = time; best = f; }
                }
                if (best is { } b && b.TryGetProperty("deviceId", out var id) && id.ValueKind == JsonValueKind.String &&
                    b.TryGetProperty("seq", out var seq) && seq.TryGetInt64(out long s))
                    return new AlertMatch(alertId, cleared, id.GetString(), s, decided);
            }
            return new AlertMatch(alertId, cleared, null, 0, decided);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
