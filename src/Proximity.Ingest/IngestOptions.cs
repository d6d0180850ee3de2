using Proximity.Protocol;

namespace Proximity.Ingest;

public enum IngestMode
{
    /// <summary>The service is the broker (MQTTnet, in process): the default for a single node.</summary>
    Embedded,
    /// <summary>The service is a client of Mosquitto, EMQX, …: persistent session, QoS 1, shared subscription.</summary>
    External,
}

/// <summary>MQTT ingest settings (configuration section <c>Proximity:Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string Section = "Proximity:Ingest";

    public IngestMode Mode { get; set; } = IngestMode.Embedded;

    /// <summary>Embedded broker: TCP port and address to listen on.</summary>
    public int Port { get; set; } = 1883;
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>
    /// Embedded broker: messages queued for one slow subscriber (a control room reading alerts) before the oldest
    /// are dropped. MQTTnet's default of 250 loses alerts in a burst.
    /// </summary>
    public int MaxPendingMessagesPerClient { get; set; } = 100_000;

    /// <summary>Bigger messages are refused (a store-and-forward array of a day of fixes fits easily).</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>A fix stamped further ahead of the server's clock than this is refused: believed, it would make every
    /// later fix of the person look older than it and so stop them moving the current position. A rehearsal with
    /// simulated time running faster than real time (<c>proximity-sim scenario --speed</c>) needs a longer one.</summary>
    public TimeSpan MaxClockAhead { get; set; } = FixJson.DefaultMaxClockAhead;

    /// <summary>External broker address and the service's own credentials there.</summary>
    public string BrokerHost { get; set; } = "localhost";
    public int BrokerPort { get; set; } = 1883;
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>Per node and stable across restarts, so the broker keeps the persistent session.</summary>
    public string ClientId { get; set; } = "proximity-" + Environment.MachineName.ToLowerInvariant();

    /// <summary>Nodes in one group split the device messages between them (<c>$share/{group}/…</c>); empty: no sharing.</summary>
    public string SharedGroup { get; set; } = "proximity";

    /// <summary>The device uplinks a node subscribes to, shared within <see cref="SharedGroup"/> when one is set. Not
    /// <c>devices/+/+</c>: that would bring back every command and notification the service sends (counted as rejects).</summary>
    public IReadOnlyList<string> DeviceFilters =>
        new[] { DeviceTopic.Prefix + "+/position", DeviceTopic.Prefix + "+/event", DeviceTopic.OwnTracksPrefix + "+/+" }
            .Select(f => string.IsNullOrEmpty(SharedGroup) ? f : $"$share/{SharedGroup}/{f}")
            .ToArray();

    /// <summary>How long the broker keeps the session (and queues QoS 1 messages) while the service is down.</summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Longest pause between attempts to reach the broker again. Short: Mosquitto does not keep shared
    /// subscriptions over its own restart, so until the node subscribes again device messages reach nobody
    /// (MQTT 5 devices get PUBACK "no matching subscribers" and must send again; MQTT 3.1.1 devices cannot tell).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// External broker: messages the node holds unacknowledged at most (MQTT 5 Receive Maximum; the broker may allow
    /// fewer). Each is acknowledged once judged and in the position history, so this is also how far a node goes on
    /// judging while the database is away; the broker keeps the rest.
    /// </summary>
    public ushort MaxInFlight { get; set; } = 1000;

    /// <summary>External broker: first and longest wait before a message whose grains could not be reached is tried again.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}
