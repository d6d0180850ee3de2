using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;

namespace Proximity.Grains.Tests;

/// <summary>
/// One in-process Orleans test cluster for the grain tests, with a case in which every test has its own people,
/// a hand-moved monitoring clock and a recording MQTT publisher.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan OffenderInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan EscalateAfter = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan SilenceCheckPeriod = TimeSpan.FromMilliseconds(100);

    public ManualTime Time { get; } = new();
    public RecordingMqtt Mqtt { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;
    public ProximityRegistry Registry { get; } = new(Case, 1000);
    public DeviceFeed Feed { get; } = new(longestSuppression: LongestSuppression);
    public static readonly TimeSpan LongestSuppression = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan DeviceFeedLease = TimeSpan.FromSeconds(1);
    public FixRoutes Routes { get; private set; } = null!;

    public static CaseFile Case { get; } = BuildCase();

    /// <summary>Deactivates <paramref name="grain"/> as its node dying would; its next call activates it anew.</summary>
    public static ValueTask Deactivate(IAddressable grain) =>
        grain.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle(TestContext.Current.CancellationToken);

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(ProximitySilo.StorageName);
            silo.Services.AddKeyedSingleton<TimeProvider>(ProximitySilo.ClockKey, Time);
            silo.Services.AddSingleton<IMqttPublisher>(Mqtt);
            silo.Services.AddProximityGrainServices(Case);
            silo.Services.AddSingleton(Registry); // the tests change devices in the registry the grains read
            silo.Services.AddSingleton(Feed); // and what the cluster hears of its devices
            silo.Services.Configure<ProximityOptions>(o =>
            {
                o.OffenderReportingInterval = OffenderInterval;
                o.SilenceCheckPeriod = SilenceCheckPeriod;
                o.DeviceFeedLease = DeviceFeedLease;
                o.EscalateCriticalAfter = EscalateAfter;
                o.EscalationCheckPeriod = TimeSpan.FromMilliseconds(100);
                o.SecretHashIterations = 1000;
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Routes = new FixRoutes(Grains, new NoFixRecorder(), Time);
    }

    /// <summary>One message of fixes from a device, as ingest hands it on: judged by the person's grain, health to the device's.</summary>
    public Task<FixOutcome> Report(string deviceId, params PositionFix[] fixes) => Routes.OnPositionsAsync(Registry.Device(deviceId)!, fixes);

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Offender Oi with ankle monitor ai, victim Vi with phone pi, a contact ban 500/1000 m at level 2 (i = 2: level 3).</summary>
    private static CaseFile BuildCase()
    {
        var offenders = new List<PersonSpec>();
        var victims = new List<PersonSpec>();
        var bans = new List<Ban>();
        for (int i = 1; i <= 9; i++)
        {
            offenders.Add(new PersonSpec($"O{i}", [new DeviceSpec($"a{i}", "secret")]));
            victims.Add(new PersonSpec($"V{i}", [new DeviceSpec($"p{i}", "secret")]));
            bans.Add(new ContactBan
            {
                Id = $"ban{i}", OffenderId = $"O{i}", VictimId = $"V{i}", MinDistanceMeters = 500, WarningDistanceMeters = 1000,
                MonitoringLevel = i == 2 ? 3 : 2,
            });
        }
        // O9 must also keep away from V8: an offender with two victims, a victim with two offenders.
        bans.Add(new ContactBan { Id = "ban9b", OffenderId = "O9", VictimId = "V8", MinDistanceMeters = 500, WarningDistanceMeters = 1000 });
        return new CaseFile(offenders, victims, bans, []);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
