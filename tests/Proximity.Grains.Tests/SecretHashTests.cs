using Proximity.Grains.Registry;

namespace Proximity.Grains.Tests;

/// <summary>Device and integration secrets: only the right one is accepted, first time or again.</summary>
public sealed class SecretHashTests
{
    [Fact]
    public void The_right_secret_is_accepted_again_and_a_wrong_one_never_even_after_it()
    {
        var hash = SecretHash.Create("ankle-secret", 1000);
        Assert.False(hash.Verify("ankle-secreT")); // before any success
        Assert.True(hash.Verify("ankle-secret"));
        Assert.True(hash.Verify("ankle-secret")); // again: from the remembered digest
        foreach (string? wrong in new[] { "ankle-secreT", "ankle-secret ", "ankle-secre", "", null, "other" })
            Assert.False(hash.Verify(wrong));
        Assert.True(hash.Verify("ankle-secret"));
    }

    [Fact]
    public void A_hash_read_back_from_storage_accepts_the_same_secret_and_a_new_hash_refuses_the_old_one()
    {
        var original = SecretHash.Create("s3cr3t", 1000);
        Assert.True(original.Verify("s3cr3t"));
        var stored = SecretHash.Parse(original.ToString());
        Assert.Equal(original, stored);
        Assert.False(stored.Verify("wrong"));
        Assert.True(stored.Verify("s3cr3t"));
        // A new secret for the device is a new hash: the old secret, remembered by the old one, is refused.
        var rekeyed = SecretHash.Create("n3w", 1000);
        Assert.False(rekeyed.Verify("s3cr3t"));
        Assert.True(rekeyed.Verify("n3w"));
    }

    [Fact]
    public void Only_the_first_login_with_a_stored_hash_pays_the_derivation_and_a_wrong_secret_always_does()
    {
        var stored = SecretHash.Parse(SecretHash.Create("s3cr3t", 1000).ToString()); // as read from the database
        Assert.Equal(SecretCheck.Derived, stored.Check("s3cr3t"));
        Assert.Equal(SecretCheck.Remembered, stored.Check("s3cr3t"));
        Assert.Equal(SecretCheck.Wrong, stored.Check("s3cr3T"));
        Assert.Equal(SecretCheck.Remembered, stored.Check("s3cr3t")); // a wrong try does not make it forget
        // Made from the secret (case file, registration): remembered from the start.
        Assert.Equal(SecretCheck.Remembered, SecretHash.Create("n3w", 1000).Check("n3w"));
    }
}
