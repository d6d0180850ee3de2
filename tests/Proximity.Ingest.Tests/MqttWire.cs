using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Proximity.Ingest.Tests;

/// <summary>MQTT 3.1.1 packets as bytes, for tests that talk to a connection over a raw socket.</summary>
internal static class MqttWire
{
    public static byte[] Encode(MqttPacket packet) =>
        new MqttPacketFormatterAdapter(MqttProtocolVersion.V311, new MqttBufferWriter(4096, 1 << 20)).Encode(packet).Join().ToArray();

    public static MqttPublishPacket Publish(string topic, ushort id, byte[] payload) => new()
    {
        Topic = topic,
        PayloadSegment = payload,
        QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        PacketIdentifier = id,
    };
}
