using Proximity.Grains.Registry;
using Proximity.Protocol;

namespace Proximity.Grains.Tests;

/// <summary>Devices change while the node runs: what the broker logs in with and routes by follows each change.</summary>
public sealed class ProximityRegistryTests
{
    private static ProximityRegistry Registry() => new(new CaseFile(
        [new PersonSpec("O1", [new DeviceSpec("a1", "first")]), new PersonSpec("O2", [])], [new PersonSpec("V1", [])], [], []), 1000);

    [Fact]
    public void A_registered_device_logs_in_once_someone_carries_it_and_with_the_secret_it_was_registered_with()
    {
        var registry = Registry();
        var secret = SecretHash.Create("new-secret", 1000);

        var registered = registry.ApplyDevice(new DeviceUpdate("a2", null, PersonRole.Offender, false, secret));
        Assert.False(registered.Changed);
        Assert.Null(registry.Authenticate("a2", "new-secret"));

        var fitted = registry.ApplyDevice(new DeviceUpdate("a2", "O1", PersonRole.Offender, false, null));
        Assert.True(fitted.Changed);
        Assert.False(fitted.EndsAccess);
        Assert.NotNull(registry.Authenticate("a2", "new-secret"));
        Assert.Equal("O1", registry.Device("a2")!.PersonId);
        Assert.Equal(["a1", "a2"], registry.DevicesOf("O1"));
    }

    [Fact]
    public void Giving_a_device_to_someone_else_moves_it_and_ends_access_made_for_the_one_before()
    {
        var registry = Registry();
        var moved = registry.ApplyDevice(new DeviceUpdate("a1", "O2", PersonRole.Offender, false, null));
        Assert.True(moved.EndsAccess);
        Assert.Empty(registry.DevicesOf("O1"));
        Assert.Equal(["a1"], registry.DevicesOf("O2"));
        Assert.NotNull(registry.Authenticate("a1", "first"));
    }

    [Fact]
    public void A_new_secret_replaces_the_old_and_the_same_stored_hash_read_again_changes_nothing()
    {
        var registry = Registry();
        var rekeyed = SecretHash.Create("second", 1000);
        var applied = registry.ApplyDevice(new DeviceUpdate("a1", "O1", PersonRole.Offender, false, rekeyed));
        Assert.True(applied.EndsAccess);
        Assert.Null(registry.Authenticate("a1", "first"));
        Assert.NotNull(registry.Authenticate("a1", "second"));

        // What a poll of the database brings back: the same hash, parsed anew.
        var again = registry.ApplyDevice(new DeviceUpdate("a1", "O1", PersonRole.Offender, false, SecretHash.Parse(rekeyed.ToString())));
        Assert.False(again.Changed);
        Assert.False(again.EndsAccess);
    }

    [Fact]
    public void A_retired_device_cannot_log_in_and_is_nobodys_device()
    {
        var registry = Registry();
        var retired = registry.ApplyDevice(new DeviceUpdate("a1", null, PersonRole.Offender, true, null));
        Assert.True(retired.EndsAccess);
        Assert.Null(registry.Device("a1"));
        Assert.Null(registry.Authenticate("a1", "first"));
        Assert.Empty(registry.DevicesOf("O1"));
        // Nothing of its secret is kept for a later assignment.
        registry.ApplyDevice(new DeviceUpdate("a1", "O1", PersonRole.Offender, false, null));
        Assert.Null(registry.Authenticate("a1", "first"));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("#")]
    [InlineData("")]
    public void A_device_id_that_cannot_be_a_topic_level_is_refused(string id) =>
        Assert.Throws<CaseFileException>(() => Registry().ApplyDevice(new DeviceUpdate(id, "O1", PersonRole.Offender, false, SecretHash.Create("s", 1000))));

    [Fact]
    public void Each_device_of_a_case_file_logs_in_with_its_own_secret_only()
    {
        var offenders = Enumerable.Range(0, 40).Select(i => new PersonSpec($"O{i}", [new DeviceSpec($"a{i}", $"secret-{i}")])).ToList();
        var victims = Enumerable.Range(0, 40).Select(i => new PersonSpec($"V{i}", [new DeviceSpec($"p{i}", $"phone-{i}")])).ToList();
        var stored = SecretHash.Create("kept", 1000).ToString();
        offenders.Add(new PersonSpec("O-stored", [new DeviceSpec("a-stored", null) { SecretHash = stored }]));
        var registry = new ProximityRegistry(new CaseFile(offenders, victims, [], []), 1000);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"O{i}", registry.Authenticate($"a{i}", $"secret-{i}")?.PersonId);
            Assert.Equal($"V{i}", registry.Authenticate($"p{i}", $"phone-{i}")?.PersonId);
            Assert.Null(registry.Authenticate($"a{i}", $"secret-{(i + 1) % 40}"));
            Assert.Null(registry.Authenticate($"a{i}", $"phone-{i}"));
        }
        Assert.NotNull(registry.Authenticate("a-stored", "kept"));
    }

    [Fact]
    public void A_case_file_with_an_unreadable_stored_hash_is_refused_as_such() =>
        Assert.Throws<FormatException>(() => new ProximityRegistry(new CaseFile(
            [new PersonSpec("O1", [new DeviceSpec("a1", null) { SecretHash = "md5$x" }])], [], [], []), 1000));
}
