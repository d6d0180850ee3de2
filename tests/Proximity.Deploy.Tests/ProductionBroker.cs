using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;

namespace Proximity.Deploy.Tests;

/// <summary>
/// A real Mosquitto (Debian's package, installed by tests/install-services.sh) started with the
/// production mosquitto.conf and ACL: only paths and ports are rewritten (both listeners on
/// loopback, free ports). TLS on the device listener uses a CA and server certificate made here.
/// </summary>
public sealed class ProductionBroker : IAsyncLifetime
{
    public const string ServiceUser = "proximity-service";
    public const string IntegrationUser = "integration-control-room";
    public static readonly IReadOnlyDictionary<string, string> Passwords = new Dictionary<string, string>
    {
        [ServiceUser] = "service-secret",
        [IntegrationUser] = "integration-secret",
        ["dev-a"] = "secret-a",
        ["dev-b"] = "secret-b",
    };

    /// <summary>More password-file entries (for example a case file's devices), added to <see cref="Passwords"/>.</summary>
    public IReadOnlyDictionary<string, string> ExtraUsers { get; init; } = new Dictionary<string, string>();

    private readonly string _dir = Directory.CreateTempSubdirectory("proximity-broker-").FullName;
    private readonly StringBuilder _log = new();
    private Process? _process;
    private X509Certificate2? _ca;

    public int InternalPort { get; private set; }
    public int TlsPort { get; private set; }

    public async ValueTask InitializeAsync()
    {
        string mosquitto = Executable("mosquitto", "/usr/sbin/mosquitto");
        string passwdTool = Executable("mosquitto_passwd", "/usr/bin/mosquitto_passwd");
        Directory.CreateDirectory(Path.Combine(_dir, "config"));
        Directory.CreateDirectory(Path.Combine(_dir, "certs"));
        Directory.CreateDirectory(Path.Combine(_dir, "data"));

        File.Copy(Repo.PathOf("deploy/mosquitto/production/acl"), Path.Combine(_dir, "config", "acl"));
        string passwd = Path.Combine(_dir, "config", "passwd");
        await File.WriteAllTextAsync(passwd, "");
        foreach (var (user, password) in Passwords.Concat(ExtraUsers))
            await RunAsync(passwdTool, ["-b", passwd, user, password]);
        WriteCertificates(Path.Combine(_dir, "certs"));

        InternalPort = FreePort();
        TlsPort = FreePort();
        string conf = Repo.Read("deploy/mosquitto/production/mosquitto.conf")
            .Replace("/mosquitto/config/", Path.Combine(_dir, "config") + "/", StringComparison.Ordinal)
            .Replace("/mosquitto/certs/", Path.Combine(_dir, "certs") + "/", StringComparison.Ordinal)
            .Replace("/mosquitto/data/", Path.Combine(_dir, "data") + "/", StringComparison.Ordinal)
            .Replace("\nlistener 1883\n", $"\nlistener {InternalPort} 127.0.0.1\n", StringComparison.Ordinal)
            .Replace("\nlistener 8883\n", $"\nlistener {TlsPort} 127.0.0.1\n", StringComparison.Ordinal);
        Assert.Contains($"listener {InternalPort} 127.0.0.1", conf);
        Assert.Contains($"listener {TlsPort} 127.0.0.1", conf);
        string confPath = Path.Combine(_dir, "mosquitto.conf");
        await File.WriteAllTextAsync(confPath, conf);
        // Started as root, Mosquitto drops to its own user: let it read the files and write its data.
        if (!OperatingSystem.IsWindows())
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(_dir, "*", SearchOption.AllDirectories).Append(_dir))
                File.SetUnixFileMode(path, Directory.Exists(path)
                    ? (UnixFileMode)0b111_111_111 // 0777: data dir must be writable by the broker's user
                    : (UnixFileMode)0b110_100_100);
        }

        var psi = new ProcessStartInfo(mosquitto, ["-c", confPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitForListenerAsync(InternalPort);
        await WaitForListenerAsync(TlsPort);
    }

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>A device or integration client on the TLS listener, validating the broker against the test CA.</summary>
    public MqttClientOptions TlsClient(string username, string? password = null, string? clientId = null) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", TlsPort)
            .WithClientId(clientId ?? username)
            .WithCredentials(username, password ?? Passwords[username])
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithTlsOptions(o => o.UseTls().WithTargetHost("localhost").WithCertificateValidationHandler(ValidateServer))
            .Build();

    /// <summary>A Proximity node on the internal plain listener.</summary>
    public MqttClientOptions InternalClient(string username, string clientId, string? password = null) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", InternalPort)
            .WithClientId(clientId)
            .WithCredentials(username, password ?? Passwords[username])
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();

    private bool ValidateServer(MqttClientCertificateValidationEventArgs args)
    {
        if ((args.SslPolicyErrors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || args.Certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = X509CertificateLoader.LoadCertificate(args.Certificate.GetRawCertData());
        return chain.Build(cert);
    }

    private void WriteCertificates(string dir)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Proximity test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        _ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        using var server = serverRequest.Create(_ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(12));

        File.WriteAllText(Path.Combine(dir, "ca.crt"), _ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.crt"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
    }

    private async Task WaitForListenerAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process!.HasExited) throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100); // polling a port that has no readiness signal of its own
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Executable(string name, string usual) =>
        File.Exists(usual) ? usual
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException($"{name} is not installed: run tests/install-services.sh");

    private static async Task RunAsync(string file, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {err}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _ca?.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
