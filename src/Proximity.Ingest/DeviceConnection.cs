using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Packets;

namespace Proximity.Ingest;

/// <summary>
/// One device's TCP connection to the embedded broker, as MQTTnet's server sees it. Reads straight from the socket
/// into one buffer kept for the connection and decodes every packet it holds (MQTTnet copies what it keeps), so a
/// connection waiting for its next packet holds only the task MQTTnet awaits: MQTTnet's own channel held a chain of
/// four renewed with every packet, each one surviving the next garbage collection for each of 10 000 connected
/// devices, and an async read still two more and a cancellation registration per read.
/// </summary>
internal sealed class DeviceConnection : IMqttChannelAdapter
{
    private const int InitialBufferSize = 512;
    // A buffer grown beyond this for a large message (a store-and-forward upload) is let go once emptied.
    private const int KeptBufferSize = 16 * 1024;
    // Until the first packet (CONNECT: client id, credentials, a will) is in, nothing bigger is taken from a
    // connection nobody has logged in on: 10 000 such connections cannot make the node hold a megabyte each.
    private const int MaxFirstPacketBytes = 64 * 1024;

    private readonly Socket _socket;
    private readonly int _maxPacketBytes;
    private readonly Action<EndPoint, string> _packetTooLarge;
    private static readonly Task<MqttPacket> Nothing = Task.FromResult<MqttPacket>(null!);

    private readonly SemaphoreSlim _sending = new(1, 1);
    // Reading: one set of socket arguments for the connection, completing into a method of this object, so a
    // connection waiting for its next packet holds nothing allocated since the packet before but MQTTnet's wait.
    private readonly SocketAsyncEventArgs _receiving = new(unsafeSuppressExecutionContextFlow: true);
    private readonly Lock _gate = new();
    private TaskCompletionSource<MqttPacket>? _waiting; // MQTTnet's wait for the next packet
    private MqttPacket? _ready; // decoded after the wait for it had ended: the next wait's
    private Exception? _failure; // the same for a malformed packet
    private bool _reading, _closed;
    private CancellationToken _cancellationFor;
    private CancellationTokenRegistration _cancellation;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _start, _end; // the received bytes not yet decoded
    private int _nextPacketLength; // of the packet at _start once its header is in, else 0
    private long _bytesReceived, _bytesSent;
    private int _disposed;

    public DeviceConnection(Socket socket, MqttPacketFormatterAdapter formatter, int maxPacketBytes, Action<EndPoint, string> packetTooLarge)
    {
        _socket = socket;
        _maxPacketBytes = maxPacketBytes;
        _packetTooLarge = packetTooLarge;
        PacketFormatterAdapter = formatter;
        _receiving.Completed += OnReceived;
        RemoteEndPoint = AsIPv4Where(socket.RemoteEndPoint!);
        LocalEndPoint = AsIPv4Where(socket.LocalEndPoint!);
    }

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public X509Certificate2 ClientCertificate => null!;
    public EndPoint RemoteEndPoint { get; }
    public EndPoint LocalEndPoint { get; }
    public bool IsSecureConnection => false;
    public MqttPacketFormatterAdapter PacketFormatterAdapter { get; }

    public Task ConnectAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("a device connection is accepted, not made");

    public Task DisconnectAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void ResetStatistics()
    {
        Interlocked.Exchange(ref _bytesReceived, 0);
        Interlocked.Exchange(ref _bytesSent, 0);
    }

    /// <summary>
    /// The next packet; null when the connection closed, <paramref name="cancellationToken"/> ended the wait or the
    /// packet is larger than allowed (counted; MQTTnet then closes the connection without logging an error).
    /// </summary>
    public Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Nothing;
        TaskCompletionSource<MqttPacket> waiter;
        bool read;
        lock (_gate)
        {
            if (_ready is { } ready)
            {
                _ready = null;
                return Task.FromResult(ready);
            }
            if (_failure is { } failure)
            {
                _failure = null;
                return Task.FromException<MqttPacket>(failure);
            }
            if (_closed) return Nothing;
            if (!_reading)
            {
                try
                {
                    switch (TryDecode(out var packet))
                    {
                        case Decoding.Packet: return Task.FromResult(packet);
                        case Decoding.TooLarge: _closed = true; return Nothing;
                    }
                }
                catch (Exception x) { return Task.FromException<MqttPacket>(x); }
            }
            waiter = new TaskCompletionSource<MqttPacket>();
            _waiting = waiter;
            read = !_reading;
            _reading = true;
        }
        EndWaitWith(cancellationToken);
        if (cancellationToken.IsCancellationRequested) EndWait(); // the token ended the wait before it was set
        if (read) ReadMore();
        return waiter.Task;
    }

    public async Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        // One at a time: the formatter encodes into one buffer, and a DISCONNECT may be sent beside the send loop.
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var encoded = PacketFormatterAdapter.Encode(packet);
            await SendAsync(encoded.Packet, cancellationToken).ConfigureAwait(false);
            foreach (var segment in encoded.Payload) await SendAsync(segment, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, encoded.Length);
        }
        catch (Exception x) when (x is SocketException or ObjectDisposedException)
        {
            throw new MqttCommunicationException(x);
        }
        finally
        {
            PacketFormatterAdapter.Cleanup();
            _sending.Release();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { } // already gone
        _socket.Dispose();
        _receiving.Dispose(); // after the read in progress, if any, has ended
        CancellationTokenRegistration registration;
        lock (_gate) (registration, _cancellation) = (_cancellation, default);
        registration.Dispose();
    }

    // Reads until the packet MQTTnet waits for is whole. The read in progress owns the buffer: nothing else decodes
    // while _reading is set. A read completing at once goes round the loop instead of recursing.
    private void ReadMore()
    {
        try
        {
            do
            {
                MakeRoom();
                _receiving.SetBuffer(_buffer, _end, _buffer.Length - _end);
                if (_socket.ReceiveAsync(_receiving)) return;
            }
            while (Received());
        }
        catch (Exception x) when (x is ObjectDisposedException or SocketException or InvalidOperationException)
        {
            Finish(null, closed: true, failure: null); // disposed meanwhile: the device is gone
        }
        catch (Exception x)
        {
            Finish(null, closed: true, failure: x); // the wait fails, as an async read's would: never this thread
        }
    }

    // Nothing may escape a completion (it would end the process): Received and ReadMore each fail the wait instead.
    private void OnReceived(object? sender, SocketAsyncEventArgs args)
    {
        if (Received()) ReadMore();
    }

    // After a read: true when the packet is not yet whole and another read must follow.
    private bool Received()
    {
        int read = _receiving.SocketError == SocketError.Success ? _receiving.BytesTransferred : 0;
        if (read == 0) return Finish(null, closed: true, failure: null); // closed or reset by the device, or disposed
        _end += read;
        Interlocked.Add(ref _bytesReceived, read);
        try
        {
            return TryDecode(out var packet) switch
            {
                Decoding.NeedMore => true,
                Decoding.Packet => Finish(packet, closed: false, failure: null),
                _ => Finish(null, closed: true, failure: null),
            };
        }
        catch (Exception x)
        {
            return Finish(null, closed: true, failure: x);
        }
    }

    // Ends the read; hands its outcome to the wait, or keeps the packet for the next one when the wait had ended.
    private bool Finish(MqttPacket? packet, bool closed, Exception? failure)
    {
        TaskCompletionSource<MqttPacket>? waiter;
        lock (_gate)
        {
            _reading = false;
            _closed |= closed;
            waiter = _waiting;
            _waiting = null;
            if (waiter is null)
            {
                _ready = packet;
                _failure = failure;
            }
        }
        if (failure is not null) waiter?.TrySetException(failure);
        else waiter?.TrySetResult(packet!);
        return false;
    }

    // MQTTnet ends a wait with its token (a CONNECT timeout, the connection stopped): one registration per token,
    // not one per read. The read in progress goes on and serves the next wait.
    private void EndWaitWith(CancellationToken cancellationToken)
    {
        if (cancellationToken == _cancellationFor) return;
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((DeviceConnection)state!).EndWait(), this)
            : default;
        CancellationTokenRegistration stale;
        lock (_gate)
        {
            if (_disposed != 0) stale = registration; // Dispose has run: nothing is kept
            else
            {
                stale = _cancellation;
                _cancellation = registration;
                _cancellationFor = cancellationToken;
            }
        }
        stale.Dispose();
    }

    private void EndWait()
    {
        TaskCompletionSource<MqttPacket>? waiter;
        lock (_gate)
        {
            waiter = _waiting;
            _waiting = null;
        }
        // Not inline: MQTTnet, told its wait is over, disposes the token source whose cancellation is calling this.
        if (waiter is not null) ThreadPool.UnsafeQueueUserWorkItem(static w => w.TrySetResult(null!), waiter, preferLocal: false);
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private enum Decoding { Packet, NeedMore, TooLarge }

    // A whole packet at _start: fixed header byte, remaining length (1 to 4 bytes, 7 bits each), then the body.
    private Decoding TryDecode(out MqttPacket packet)
    {
        packet = null!;
        _nextPacketLength = 0;
        int available = _end - _start;
        if (available < 2) return Decoding.NeedMore;
        int bodyLength = 0, headerLength = 1;
        for (int shift = 0; ; shift += 7)
        {
            if (headerLength > 4) throw new MqttProtocolViolationException("Remaining length is invalid.");
            if (headerLength >= available) return Decoding.NeedMore;
            byte encoded = _buffer[_start + headerLength++];
            bodyLength |= (encoded & 0x7F) << shift;
            if ((encoded & 0x80) == 0) break;
        }
        int length = headerLength + bodyLength;
        int max = PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.Unknown ? MaxFirstPacketBytes : _maxPacketBytes;
        if (length > max)
        {
            _packetTooLarge(RemoteEndPoint, $"a packet of {length} bytes is more than {max}: the connection is closed");
            return Decoding.TooLarge;
        }
        if (available < length)
        {
            _nextPacketLength = length;
            return Decoding.NeedMore;
        }

        var received = new ReceivedMqttPacket(_buffer[_start], new ArraySegment<byte>(_buffer, _start + headerLength, bodyLength), length);
        _start += length;
        if (PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.Unknown) PacketFormatterAdapter.DetectProtocolVersion(received);
        packet = PacketFormatterAdapter.Decode(received) ?? throw new MqttProtocolViolationException("Received malformed packet.");
        return Decoding.Packet;
    }

    // Before each read: an emptied buffer starts again from its front (a large one is let go); a full one moves its
    // undecoded bytes to the front of itself or, when the packet they begin is longer than it, of one that fits it.
    private void MakeRoom()
    {
        int pending = _end - _start;
        if (pending == 0)
        {
            if (_buffer.Length > KeptBufferSize) _buffer = new byte[InitialBufferSize];
        }
        else if (_end < _buffer.Length) return;
        else if (Math.Max(_nextPacketLength, pending + 1) is var needed && needed > _buffer.Length)
        {
            var larger = new byte[Math.Max(needed, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, larger, 0, pending);
            _buffer = larger;
        }
        else Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
        _start = 0;
        _end = pending;
    }

    // A dual-mode socket shows an IPv4 device as ::ffff:a.b.c.d; logs and the login check get a.b.c.d.
    private static EndPoint AsIPv4Where(EndPoint endPoint) =>
        endPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : endPoint;
}
