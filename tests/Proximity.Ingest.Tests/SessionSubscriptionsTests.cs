using System.Collections;
using System.Collections.Concurrent;
using MQTTnet.Protocol;

namespace Proximity.Ingest.Tests;

public sealed class SessionSubscriptionsTests
{
    private readonly SessionSubscriptions _book = new();

    [Fact]
    public void A_topic_matches_exact_and_wildcard_filters_and_gets_the_highest_granted_qos()
    {
        IDictionary items = new ConcurrentDictionary<object, object>();
        _book.Subscribed("A1", items, "proximity/v1/devices/A1/+", MqttQualityOfServiceLevel.AtMostOnce);
        _book.Subscribed("A1", items, "proximity/v1/devices/A1/command", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, SessionSubscriptions.Qos(items, "proximity/v1/devices/A1/command"));
        Assert.Equal(MqttQualityOfServiceLevel.AtMostOnce, SessionSubscriptions.Qos(items, "proximity/v1/devices/A1/notify"));
        Assert.Null(SessionSubscriptions.Qos(items, "proximity/v1/devices/A2/notify"));
        Assert.True(_book.MayHaveSubscriptions("A1"));
        Assert.False(_book.MayHaveSubscriptions("A2"));
    }

    [Fact]
    public void An_unsubscribed_filter_no_longer_matches_and_subscribing_again_restores_it()
    {
        IDictionary items = new ConcurrentDictionary<object, object>();
        _book.Subscribed("P1", items, "proximity/v1/devices/P1/#", MqttQualityOfServiceLevel.AtLeastOnce);
        _book.Unsubscribed(items, "proximity/v1/devices/P1/#");
        Assert.Null(SessionSubscriptions.Qos(items, "proximity/v1/devices/P1/notify"));

        _book.Subscribed("P1", items, "proximity/v1/devices/P1/notify", MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, SessionSubscriptions.Qos(items, "proximity/v1/devices/P1/notify"));
    }

    [Fact]
    public void Only_clients_that_subscribed_to_an_alerts_filter_are_alert_readers()
    {
        _book.Subscribed("meldkamer-1", new ConcurrentDictionary<object, object>(), "proximity/v1/alerts/#", MqttQualityOfServiceLevel.AtLeastOnce);
        _book.Subscribed("A1", new ConcurrentDictionary<object, object>(), "proximity/v1/devices/A1/notify", MqttQualityOfServiceLevel.AtLeastOnce);
        Assert.Equal(["meldkamer-1"], _book.AlertReaders);
    }
}
