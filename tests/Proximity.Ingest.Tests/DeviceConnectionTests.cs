using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using System.Text;
using Proximity.Grains;
using MQTTnet.Packets;

namespace Proximity.Ingest.Tests;

/// <summary>The embedded broker's own TCP reading (DeviceConnection), spoken to byte by byte.</summary>
[Collection(EmbeddedCollection.Name)]
public sealed class DeviceConnectionTests(EmbeddedFixture f)
{
    private const string Device = "A9";
    private static readonly string PositionTopic = $"proximity/v1/devices/{Device}/position";

    [Fact(Timeout = 60_000)]
    public async Task Packets_split_over_many_reads_or_packed_into_one_are_each_decoded_and_acknowledged()
    {
        using var socket = await ConnectAsync();
        var connect = MqttWire.Encode(new MqttConnectPacket { ClientId = Device, Username = Device, Password = Encoding.UTF8.GetBytes("ankle-secret"), CleanSession = true });
        foreach (byte b in connect) // one byte per TCP segment
        {
            await socket.SendAsync(new[] { b });
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await ReadAsync(socket, 4)); // CONNACK, accepted
        int before = (await f.Host.Grains.DeviceGrain(Device).GetStatus()).Messages;

        var now = DateTimeOffset.UtcNow;
        byte[] both = [.. Publish(1, MqttTestClient.Fix(1, now.AddSeconds(-1), 0)), .. Publish(2, MqttTestClient.Fix(2, now, 0))];
        await socket.SendAsync(both);

        Assert.Equal(new byte[] { 0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02 }, await ReadAsync(socket, 8)); // PUBACK 1, PUBACK 2
        await f.DeviceMessagesReachAsync(Device, before + 2);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_packet_larger_than_any_message_allowed_closes_the_connection_and_is_counted()
    {
        using var socket = await ConnectedAsync();
        long before = f.Rejects["TooLarge"];
        // A PUBLISH announcing 4 MB (the largest payload allowed is 1 MB): refused before any of it is taken in.
        await socket.SendAsync(new byte[] { 0x32, 0x80, 0x80, 0x80, 0x02 });

        Assert.Equal(0, await ReadUntilClosedAsync(socket));
        Assert.Equal(before + 1, f.Rejects["TooLarge"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_first_packet_larger_than_a_login_needs_closes_the_connection_and_is_counted()
    {
        using var socket = await ConnectAsync();
        long before = f.Rejects["TooLarge"];
        // A CONNECT announcing 100 KB before anyone logged in (a login needs a few hundred bytes).
        await socket.SendAsync(new byte[] { 0x10, 0x80, 0xA0, 0x06 });

        Assert.Equal(0, await ReadUntilClosedAsync(socket));
        Assert.Equal(before + 1, f.Rejects["TooLarge"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_payload_somewhat_too_large_is_refused_by_its_reason_and_the_connection_goes_on()
    {
        await using var device = await MqttTestClient.ConnectAsync(f.Host.MqttPort, Device, "ankle-secret");
        long before = f.Rejects["TooLarge"];
        int messages = (await f.Host.Grains.DeviceGrain(Device).GetStatus()).Messages;

        var refused = await device.PublishAsync(PositionTopic, new string(' ', 1024 * 1024 + 1000));
        Assert.False(refused.IsSuccess);
        Assert.Equal(before + 1, f.Rejects["TooLarge"]);

        var accepted = await device.PublishAsync(PositionTopic, MqttTestClient.Fix(10, DateTimeOffset.UtcNow, 0));
        Assert.True(accepted.IsSuccess, accepted.ReasonCode.ToString());
        await f.DeviceMessagesReachAsync(Device, messages + 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_second_broker_cannot_listen_on_a_port_already_taken()
    {
        // Port sharing (SO_REUSEPORT) would let the kernel split the devices between two brokers unnoticed.
        await using var second = ActivatorUtilities.CreateInstance<EmbeddedBroker>(f.Host.Services,
            new IngestOptions { Port = f.Host.MqttPort, BindAddress = "127.0.0.1" });
        var refused = await Assert.ThrowsAsync<SocketException>(() => second.StartAsync(TestContext.Current.CancellationToken));
        Assert.Equal(SocketError.AddressAlreadyInUse, refused.SocketErrorCode);
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.Success, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, Device, Device, "ankle-secret"));
    }

    private static byte[] Publish(ushort id, string payload) => MqttWire.Encode(MqttWire.Publish(PositionTopic, id, Encoding.UTF8.GetBytes(payload)));

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", f.Host.MqttPort);
        return socket;
    }

    private async Task<Socket> ConnectedAsync()
    {
        var socket = await ConnectAsync();
        await socket.SendAsync(MqttWire.Encode(new MqttConnectPacket { ClientId = Device, Username = Device, Password = Encoding.UTF8.GetBytes("ankle-secret"), CleanSession = true }));
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, await ReadAsync(socket, 4));
        return socket;
    }

    // 0 once the broker closed the connection (a reset is a close as well).
    private static async Task<int> ReadUntilClosedAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { return await socket.ReceiveAsync(new byte[16], timeout.Token); }
        catch (SocketException) { return 0; }
    }

    private static async Task<byte[]> ReadAsync(Socket socket, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new byte[count];
        for (int n = 0; n < count;)
        {
            int read = await socket.ReceiveAsync(received.AsMemory(n), timeout.Token);
            if (read == 0) throw new InvalidOperationException($"closed after {n} of {count} bytes");
            n += read;
        }
        return received;
    }
}
