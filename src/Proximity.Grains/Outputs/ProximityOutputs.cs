using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proximity.Grains.Durability;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Outputs;

/// <summary>Where recorded alerts go: control rooms (MQTT alerts topic, webhooks).</summary>
public interface IAlertOutbox
{
    /// <summary>Queues the alert on every route; never blocks.</summary>
    void Publish(Alert alert);
}

/// <summary>Messages to devices: victim notifications and reporting-rate commands.</summary>
public interface IDeviceMessenger
{
    void Notify(string deviceId, VictimNotice notice);
    void SetInterval(string deviceId, int seconds);
}

/// <summary>One device-bound message, serialised on the output side.</summary>
public readonly record struct DeviceMessage(string Topic, object Body);

/// <summary>
/// The output routes, each an <see cref="OutputChannel{T}"/>: the MQTT alerts topic and device messages (when
/// an <see cref="IMqttPublisher"/> is registered) and one channel per configured webhook.
/// </summary>
public sealed class ProximityOutputs : IAlertOutbox, IDeviceMessenger, IHostedService, IAsyncDisposable
{
    private const AlertRecipients Everyone = AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom;
    private static readonly JsonSerializerOptions DeviceJson = new(JsonSerializerDefaults.Web);
    /// <summary>Each alert route with the recipients it serves.</summary>
    private readonly List<(OutputChannel<Alert> Channel, AlertRecipients Serves)> _alertChannels = [];
    private readonly OutputChannel<DeviceMessage>? _deviceChannel;
    private readonly HttpClient _http;
    private readonly IAlertJournal _journal;
    private readonly ILogger _logger;
    /// <summary>Raised alerts queued on routes, with the number of routes still to take them.</summary>
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private int _disposed;

    public ProximityOutputs(IOptions<OutputOptions> options, OutputMetrics metrics, ILoggerFactory loggers, [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
        IEnumerable<IMqttPublisher> publishers, IAlertJournal? journal = null)
    {
        var o = options.Value;
        var logger = loggers.CreateLogger<ProximityOutputs>();
        _logger = logger;
        _journal = journal ?? new NoAlertJournal();
        var mqtt = publishers.FirstOrDefault();
        if (mqtt is not null)
        {
            _alertChannels.Add((new OutputChannel<Alert>("mqtt-alerts",
                async (a, ct) => { await mqtt.PublishAsync(Topics.Alert(a.Severity), AlertJson.SerializeToUtf8(a), ct); Delivered(a); }, o, metrics, logger, time), Everyone));
            _deviceChannel = new OutputChannel<DeviceMessage>("device-messages",
                (m, ct) => mqtt.PublishAsync(m.Topic, JsonSerializer.SerializeToUtf8Bytes(m.Body, DeviceJson), ct), o, metrics, logger, time);
        }
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // the channel's pipeline times out each attempt
        foreach (var hook in o.Webhooks)
        {
            if (hook.Url is null) throw new OptionsValidationException(OutputOptions.Section, typeof(WebhookOptions), [$"webhook '{hook.Name}' has no Url"]);
            _alertChannels.Add((new OutputChannel<Alert>($"webhook-{hook.Name}", async (a, ct) => { await PostAsync(hook, a, time, ct); Delivered(a); }, o, metrics, logger, time), hook.Recipients));
        }
    }

    public void Publish(Alert alert)
    {
        var routes = _alertChannels.Where(c => (c.Serves & alert.Recipients) != 0).Select(c => c.Channel).ToArray();
        // A raise leaves the outbox once every route serving it took it (clears and escalations are updates of it).
        bool tracked = alert.ClearedAt is null && routes.Length > 0 && _inFlight.TryAdd(alert.Id, routes.Length);
        if (alert.ClearedAt is null && routes.Length == 0) MarkPublished(alert.Id); // nobody to tell: nothing to keep
        foreach (var channel in routes)
            if (!channel.TryEnqueue(alert) && tracked) _inFlight.TryRemove(alert.Id, out _); // dropped: stays in the outbox
    }

    /// <summary>True while a raised alert is queued on a route of this node (the outbox relay leaves it alone).</summary>
    public bool IsInFlight(string alertId) => _inFlight.ContainsKey(alertId);

    private void Delivered(Alert alert)
    {
        if (alert.ClearedAt is not null) return;
        while (_inFlight.TryGetValue(alert.Id, out int left))
        {
            if (left <= 1 ? _inFlight.TryRemove(new KeyValuePair<string, int>(alert.Id, left)) : _inFlight.TryUpdate(alert.Id, left - 1, left))
            {
                if (left <= 1) MarkPublished(alert.Id);
                return;
            }
        }
    }

    // Not awaited by the route: a failed mark only means a later relay publishes it again (same id, receivers dedupe).
    private void MarkPublished(string alertId) => _ = Task.Run(async () =>
    {
        try { await _journal.MarkPublishedAsync(alertId); }
        catch (Exception e) { _logger.LogWarning("alert {AlertId}: could not mark it published ({Error}); it may be published again", alertId, e.Message); }
    });

    public void Notify(string deviceId, VictimNotice notice) =>
        _deviceChannel?.TryEnqueue(new DeviceMessage(Topics.Notify(deviceId), new NotifyBody(Wire(notice.Level), notice.Message, notice.AlertId)));

    public void SetInterval(string deviceId, int seconds) =>
        _deviceChannel?.TryEnqueue(new DeviceMessage(Topics.Command(deviceId), new CommandBody("set_interval", seconds)));

    public static string Wire(NoticeLevel level) => level switch
    {
        NoticeLevel.Danger => "danger",
        NoticeLevel.Warning => "warning",
        NoticeLevel.ProtectionDegraded => "protection_degraded",
        _ => "protection_restored",
    };

    /// <summary>
    /// The signature a receiver checks: <c>X-Proximity-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))</c>
    /// with <c>X-Proximity-Timestamp</c> in Unix seconds (reject old timestamps to stop replays).
    /// </summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var data = new byte[prefix.Length + body.Length];
        prefix.CopyTo(data, 0);
        body.CopyTo(data.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
    }

    private async ValueTask PostAsync(WebhookOptions hook, Alert alert, TimeProvider time, CancellationToken ct)
    {
        var body = AlertJson.SerializeToUtf8(alert);
        string ts = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Proximity-Timestamp", ts);
        request.Headers.Add("X-Proximity-Signature", Sign(hook.Secret, ts, body));
        request.Headers.Add("X-Proximity-Alert-Id", alert.Id);
        using var response = await _http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (c, _) in _alertChannels) c.Start();
        _deviceChannel?.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var (c, _) in _alertChannels) await c.DisposeAsync();
        if (_deviceChannel is not null) await _deviceChannel.DisposeAsync();
        _http.Dispose();
    }

    private sealed record NotifyBody(string Level, string Message, string? AlertId);

    private sealed record CommandBody(string Type, int Seconds);
}
