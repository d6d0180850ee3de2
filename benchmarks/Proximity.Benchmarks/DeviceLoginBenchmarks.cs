using BenchmarkDotNet.Attributes;
using Proximity.Grains.Registry;

namespace Proximity.Benchmarks;

/// <summary>
/// Checking a device's secret at MQTT CONNECT (embedded broker), at the default 20 000 PBKDF2 iterations: the first
/// login of a device since the node started derives the hash; a login again with the same secret (a mobile
/// network dropped the connection) is checked against the remembered digest; a wrong secret always costs the
/// derivation.
/// </summary>
[MemoryDiagnoser]
public class DeviceLoginBenchmarks
{
    private const string Secret = "ankle-secret-0123456789";
    private SecretHash _stored = null!;
    private SecretHash _loggedIn = null!;

    [GlobalSetup]
    public void Setup()
    {
        _stored = SecretHash.Create(Secret);
        _loggedIn = SecretHash.Parse(_stored.ToString());
        _loggedIn.Verify(Secret);
    }

    [Benchmark(Baseline = true, Description = "first login since the node started (PBKDF2)")]
    public bool FirstLogin() => SecretHash.Parse(_stored.ToString()).Verify(Secret);

    [Benchmark(Description = "login again with the same secret")]
    public bool LoginAgain() => _loggedIn.Verify(Secret);

    [Benchmark(Description = "wrong secret after a login")]
    public bool WrongSecret() => _loggedIn.Verify("ankle-secret-0123456780");
}
