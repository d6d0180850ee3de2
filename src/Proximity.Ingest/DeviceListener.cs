using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Server;
using Proximity.Protocol;

namespace Proximity.Ingest;

/// <summary>
/// The embedded broker's TCP listener: accepts device and integration connections and hands each to MQTTnet's
/// server as a <see cref="DeviceConnection"/>. Listens on exactly <see cref="IngestOptions.BindAddress"/> (0.0.0.0:
/// IPv4 and IPv6 alike).
/// </summary>
internal sealed class DeviceListener(IngestOptions options, IngestMetrics metrics, ILogger logger) : IMqttServerAdapter
{
    // Room around the largest payload allowed for the topic and properties: a payload somewhat too large still
    // reaches the router, which refuses and counts it without closing the connection.
    private const int PacketOverhead = 64 * 1024;
    private const int SolSocket = 1, SoReuseAddr = 2; // Linux <sys/socket.h>

    private CancellationTokenSource? _stopping;
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions serverOptions, IMqttNetLogger mqttLogger)
    {
        if (_listener is not null) throw new InvalidOperationException("the listener is running");
        var address = IPAddress.Parse(options.BindAddress);
        Socket listener;
        if (address.Equals(IPAddress.Any) && Socket.OSSupportsIPv6)
        {
            try { listener = Listen(IPAddress.IPv6Any, dualMode: true); }
            catch (SocketException x) when (x.SocketErrorCode is not SocketError.AddressAlreadyInUse)
            {
                // A host or container with IPv6 switched off: IPv4 alone.
                logger.LogInformation("embedded broker: no IPv6 listener ({Error}), IPv4 only", x.SocketErrorCode);
                listener = Listen(IPAddress.Any, dualMode: false);
            }
        }
        else listener = Listen(address, dualMode: false);
        _listener = listener;
        _stopping = new CancellationTokenSource();
        _accepting = Task.Run(() => AcceptAsync(serverOptions, listener, _stopping.Token));
        return Task.CompletedTask;
    }

    private Socket Listen(IPAddress address, bool dualMode)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualMode) listener.DualMode = true;
            // Bound again at once after a restart although the last connections wait out TIME_WAIT. Only SO_REUSEADDR:
            // .NET's ReuseAddress also sets SO_REUSEPORT, which would let a second instance share the port unnoticed.
            if (OperatingSystem.IsLinux()) listener.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            listener.Bind(new IPEndPoint(address, options.Port));
            listener.Listen(4096); // 10 000 devices reconnect at once after a restart; the kernel caps it (somaxconn)
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public async Task StopAsync()
    {
        if (_stopping is null) return;
        await _stopping.CancelAsync();
        _listener?.Dispose();
        await _accepting;
        _stopping.Dispose();
        _stopping = null;
        _listener = null;
    }

    public void Dispose()
    {
        _stopping?.Cancel();
        _listener?.Dispose();
    }

    private async Task AcceptAsync(MqttServerOptions serverOptions, Socket listener, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptAsync(stopping); }
            catch (Exception x) when (x is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException x) when (x.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted) { continue; }
            catch (SocketException x)
            {
                // Out of file descriptors or buffers: the waiting connection stays queued and would fail again at once.
                logger.LogWarning("embedded broker: accepting connections failed ({Error}); trying again in a second", x.SocketErrorCode);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stopping); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            _ = Task.Run(() => ServeAsync(serverOptions, socket), CancellationToken.None); // served until MQTTnet ends it
        }
    }

    private async Task ServeAsync(MqttServerOptions serverOptions, Socket socket)
    {
        DeviceConnection? connection = null;
        try
        {
            socket.NoDelay = true; // a PUBACK is the device's go-ahead: it must not wait for more to send
            var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(serverOptions.WriterBufferSize, serverOptions.WriterBufferSizeMax));
            connection = new DeviceConnection(socket, formatter, options.MaxPayloadBytes + PacketOverhead,
                (device, problem) => metrics.Rejected(RejectReason.TooLarge, "(a whole packet)", device.ToString(), problem));
            if (ClientHandler is { } handler) await handler(connection);
        }
        catch (Exception x) when (x is SocketException or ObjectDisposedException)
        {
            // The device went away while it was being accepted or served: nothing to tell.
        }
        catch (Exception x)
        {
            logger.LogError(x, "embedded broker: serving a connection failed");
        }
        finally
        {
            if (connection is not null) connection.Dispose();
            else socket.Dispose();
        }
    }
}
