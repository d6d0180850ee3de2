using System.Security.Cryptography;
using System.Text;

namespace Proximity.Grains.Registry;

/// <summary>A salted PBKDF2 (SHA-256) hash of a device or integration secret; the secret itself is not kept.</summary>
public sealed class SecretHash : IEquatable<SecretHash>
{
    public const int DefaultIterations = 20_000;
    private readonly byte[] _salt;
    private readonly byte[] _hash;

    // The secret last verified, as a keyed digest that takes microseconds to check: a device logging in again (mobile
    // networks drop connections often) does not pay the derivation (about 5 ms of CPU at 20 000 iterations) each
    // time. The key lives only in this object, in memory; a wrong secret is always derived in full. A memory dump of
    // the node holds key and digest together, so the secret could be guessed at HMAC speed from it: device secrets
    // are long and random, and a node's memory dumps are kept like its database.
    private readonly byte[] _verifiedKey = RandomNumberGenerator.GetBytes(32);
    private byte[]? _verified;

    private SecretHash(byte[] salt, byte[] hash, int iterations)
    {
        _salt = salt;
        _hash = hash;
        Iterations = iterations;
    }

    public int Iterations { get; }

    public static SecretHash Create(string secret, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = new SecretHash(salt, Derive(secret, salt, iterations), iterations);
        hash._verified = hash.Digest(secret); // the secret is at hand: its first login need not derive again
        return hash;
    }

    public bool Verify(string? secret) => Check(secret) != SecretCheck.Wrong;

    /// <summary>Whether <paramref name="secret"/> is the right one, and how that was found.</summary>
    public SecretCheck Check(string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return SecretCheck.Wrong;
        var digest = Digest(secret);
        if (Volatile.Read(ref _verified) is { } verified && CryptographicOperations.FixedTimeEquals(verified, digest)) return SecretCheck.Remembered;
        if (!CryptographicOperations.FixedTimeEquals(Derive(secret, _salt, Iterations), _hash)) return SecretCheck.Wrong;
        Volatile.Write(ref _verified, digest);
        return SecretCheck.Derived;
    }

    /// <summary>Reads the stored form written by <see cref="ToString"/> (and by the PostgreSQL registry).</summary>
    public static SecretHash Parse(string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out int iterations) || iterations <= 0)
            throw new FormatException("a secret hash has the form pbkdf2-sha256$iterations$salt$hash");
        return new SecretHash(Convert.FromBase64String(parts[2]), Convert.FromBase64String(parts[3]), iterations);
    }

    /// <summary>The stored form <c>pbkdf2-sha256$iterations$salt$hash</c> (base64).</summary>
    public override string ToString() => $"pbkdf2-sha256${Iterations}${Convert.ToBase64String(_salt)}${Convert.ToBase64String(_hash)}";

    /// <summary>The same stored hash (salt, iterations and hash), read again: not a new secret.</summary>
    public bool Equals(SecretHash? other) =>
        other is not null && Iterations == other.Iterations && _salt.AsSpan().SequenceEqual(other._salt) && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as SecretHash);

    public override int GetHashCode() => HashCode.Combine(Iterations, BitConverter.ToInt32(_hash));

    private byte[] Digest(string secret) => HMACSHA256.HashData(_verifiedKey, Encoding.UTF8.GetBytes(secret));

    private static byte[] Derive(string secret, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, 32);
}

/// <summary>The outcome of <see cref="SecretHash.Check"/>.</summary>
public enum SecretCheck
{
    Wrong,
    /// <summary>Right, found by the full derivation (milliseconds of CPU).</summary>
    Derived,
    /// <summary>Right, the secret verified last time (microseconds).</summary>
    Remembered,
}
