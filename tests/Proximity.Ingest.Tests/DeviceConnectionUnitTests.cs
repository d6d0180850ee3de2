using System.Buffers; // ReadOnlySequence<byte>.ToArray() for the payloads
using System.Net;
using System.Net.Sockets;
using MQTTnet.Formatter;
using MQTTnet.Packets;

namespace Proximity.Ingest.Tests;

/// <summary>One <see cref="DeviceConnection"/> over a loopback socket pair, without a broker.</summary>
public sealed class DeviceConnectionUnitTests : IAsyncLifetime
{
    private Socket _device = null!;
    private DeviceConnection _connection = null!;
    private readonly List<string> _tooLarge = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _device = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepted = listener.AcceptAsync(Ct);
        await _device.ConnectAsync(listener.LocalEndPoint!, Ct);
        _connection = new DeviceConnection(await accepted, new MqttPacketFormatterAdapter(new MqttBufferWriter(4096, 65536)),
            maxPacketBytes: 300_000, (_, problem) => _tooLarge.Add(problem));
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        _device.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wait_ended_by_its_token_returns_nothing_and_the_next_packet_still_arrives()
    {
        await AWaitEndedByItsTokenAsync();

        await _device.SendAsync(MqttWire.Encode(new MqttConnectPacket { ClientId = "A1" }), Ct);
        Assert.Equal("A1", Assert.IsType<MqttConnectPacket>(await _connection.ReceivePacketAsync(Ct)).ClientId);
    }

    [Fact(Timeout = 60_000)]
    public async Task Packets_arriving_while_nobody_waits_after_an_ended_wait_are_kept_for_the_next_waits()
    {
        await AWaitEndedByItsTokenAsync();

        byte[] both = [.. MqttWire.Encode(new MqttConnectPacket { ClientId = "A1" }), .. MqttWire.Encode(new MqttPingReqPacket())];
        await SentAndReadAsync(both);

        Assert.Equal(both.Length, _connection.BytesReceived); // read by the read the ended wait had begun
        Assert.Equal("A1", Assert.IsType<MqttConnectPacket>(await _connection.ReceivePacketAsync(Ct)).ClientId);
        Assert.IsType<MqttPingReqPacket>(await _connection.ReceivePacketAsync(Ct));
        var waiting = _connection.ReceivePacketAsync(Ct);
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted, "a packet came from nowhere");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_malformed_packet_arriving_while_nobody_waits_fails_the_next_wait()
    {
        await AWaitEndedByItsTokenAsync();

        byte[] malformed = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]; // a remaining length of five bytes
        await SentAndReadAsync(malformed);

        await Assert.ThrowsAsync<MQTTnet.Exceptions.MqttProtocolViolationException>(() => _connection.ReceivePacketAsync(Ct));
        Assert.Null(await _connection.ReceivePacketAsync(Ct)); // and the connection is over
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wait_that_cannot_be_cancelled_is_not_ended_by_the_token_of_a_wait_before_it()
    {
        using var earlier = new CancellationTokenSource();
        var first = _connection.ReceivePacketAsync(earlier.Token);
        await _device.SendAsync(MqttWire.Encode(new MqttConnectPacket { ClientId = "A1" }), Ct);
        Assert.IsType<MqttConnectPacket>(await first.WaitAsync(TimeSpan.FromSeconds(30), Ct));

        var waiting = _connection.ReceivePacketAsync(CancellationToken.None);
        earlier.Cancel();
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted, "an earlier wait's token ended this one");
        await _device.SendAsync(MqttWire.Encode(new MqttPingReqPacket()), Ct);
        Assert.IsType<MqttPingReqPacket>(await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_device_closing_ends_a_pending_wait_with_nothing()
    {
        var waiting = _connection.ReceivePacketAsync(Ct);
        _device.Shutdown(SocketShutdown.Both);
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_connection_disposed_ends_a_pending_wait_with_nothing()
    {
        var waiting = _connection.ReceivePacketAsync(Ct);
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted, "the wait ended before anything happened");
        _connection.Dispose();
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_large_upload_in_small_segments_then_small_packets_all_arrive_whole()
    {
        await _device.SendAsync(MqttWire.Encode(new MqttConnectPacket { ClientId = "A1" }), Ct);
        Assert.IsType<MqttConnectPacket>(await _connection.ReceivePacketAsync(Ct));
        var upload = new byte[200_000];
        Random.Shared.NextBytes(upload);
        byte[] bytes = [.. MqttWire.Encode(Publish(1, upload)), .. MqttWire.Encode(Publish(2, [1, 2, 3]))];
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < bytes.Length; i += 1400) await _device.SendAsync(bytes.AsMemory(i, Math.Min(1400, bytes.Length - i)), Ct);
        }, Ct);

        var first = Assert.IsType<MqttPublishPacket>(await _connection.ReceivePacketAsync(Ct));
        Assert.Equal(upload, first.Payload.ToArray());
        var second = Assert.IsType<MqttPublishPacket>(await _connection.ReceivePacketAsync(Ct));
        Assert.Equal(new byte[] { 1, 2, 3 }, second.Payload.ToArray());
        await sending;
        Assert.Empty(_tooLarge);
    }

    [Fact(Timeout = 60_000)]
    public async Task Packets_sent_at_once_from_many_threads_arrive_whole_one_after_the_other()
    {
        await _device.SendAsync(MqttWire.Encode(new MqttConnectPacket { ClientId = "A1" }), Ct); // sets the protocol version
        Assert.IsType<MqttConnectPacket>(await _connection.ReceivePacketAsync(Ct));

        // Each a header and a payload sent apart: interleaved, the device would read garbage. Eight threads on two
        // cores, started together, send 25 each.
        using var start = new Barrier(8);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var senders = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait(Ct);
                for (int id = t * 25 + 1; id <= t * 25 + 25; id++)
                    _connection.SendPacketAsync(Publish((ushort)id, Enumerable.Repeat((byte)id, 20_000).ToArray()), Ct).GetAwaiter().GetResult();
            }
            catch (Exception x) { failures.Enqueue(x); } // a thread's exception would end the test process
        })).ToList();
        senders.ForEach(s => s.Start());

        using var device = new DeviceConnection(_device, new MqttPacketFormatterAdapter(MqttProtocolVersion.V311, new MqttBufferWriter(4096, 65536)),
            maxPacketBytes: 300_000, (_, problem) => _tooLarge.Add(problem));
        var ids = new List<ushort>();
        for (int i = 0; i < 200; i++)
        {
            var publish = Assert.IsType<MqttPublishPacket>(await device.ReceivePacketAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));
            Assert.All(publish.Payload.ToArray(), b => Assert.Equal((byte)publish.PacketIdentifier, b));
            ids.Add(publish.PacketIdentifier);
        }
        senders.ForEach(s => s.Join());
        Assert.Empty(failures);
        Assert.Equal(Enumerable.Range(1, 200).Select(id => (ushort)id), ids.Order());
        Assert.Equal(_connection.BytesSent, device.BytesReceived);
    }

    private static MqttPublishPacket Publish(ushort id, byte[] payload) => MqttWire.Publish("proximity/v1/devices/A1/position", id, payload);

    // A wait for a packet ended by its token, as by MQTTnet's CONNECT timeout.
    private async Task AWaitEndedByItsTokenAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.Null(await _connection.ReceivePacketAsync(timeout.Token).WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    // Sends bytes from the device and waits (at most 30 s) until the connection has read them, nobody waiting.
    private async Task SentAndReadAsync(byte[] bytes)
    {
        await _device.SendAsync(bytes, Ct);
        var start = Environment.TickCount64;
        while (_connection.BytesReceived < bytes.Length && Environment.TickCount64 - start < 30_000) await Task.Delay(10, Ct);
    }
}
