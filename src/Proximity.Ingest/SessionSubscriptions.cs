using System.Collections;
using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Protocol;

namespace Proximity.Ingest;

/// <summary>
/// The topic filters each broker session has subscribed to, kept in the session's own items so they live and die
/// with the session exactly as the broker's own copy does (a clean start gets new items). The embedded broker
/// delivers the service's messages through this book, straight to the one device or the few alert readers:
/// MQTTnet's own dispatch checks every session's subscriptions for every message, which with 10 000 connected
/// devices cost milliseconds per alert, notification or command.
/// </summary>
public sealed class SessionSubscriptions
{
    private const string ItemKey = "proximity.subscriptions";
    private readonly ConcurrentDictionary<string, byte> _subscribers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _alertReaders = new(StringComparer.Ordinal);

    public void Subscribed(string clientId, IDictionary sessionItems, string filter, MqttQualityOfServiceLevel qos)
    {
        var filters = (Filters)(sessionItems[ItemKey] ??= new Filters());
        lock (filters) filters[filter] = qos;
        _subscribers[clientId] = 0;
        if (filter.StartsWith(Grains.Outputs.Topics.AlertsPrefix, StringComparison.Ordinal)) _alertReaders[clientId] = 0;
    }

    public void Unsubscribed(IDictionary sessionItems, string filter)
    {
        if (sessionItems[ItemKey] is Filters filters)
            lock (filters) filters.Remove(filter);
    }

    /// <summary>Whether the client has ever subscribed to anything (so it may have a session worth looking up).</summary>
    public bool MayHaveSubscriptions(string clientId) => _subscribers.ContainsKey(clientId);

    /// <summary>The clients that subscribed to an alerts filter at some time; <see cref="Qos"/> says whether they still do.</summary>
    public ICollection<string> AlertReaders => _alertReaders.Keys;

    /// <summary>The QoS a session gets <paramref name="topic"/> with, or null when none of its filters match.</summary>
    public static MqttQualityOfServiceLevel? Qos(IDictionary sessionItems, string topic)
    {
        if (sessionItems[ItemKey] is not Filters filters) return null;
        MqttQualityOfServiceLevel? best = null;
        lock (filters)
            foreach (var (filter, qos) in filters)
                if (MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch && (best is null || qos > best))
                    best = qos;
        return best;
    }

    private sealed class Filters : Dictionary<string, MqttQualityOfServiceLevel>
    {
        public Filters() : base(StringComparer.Ordinal) { }
    }
}
