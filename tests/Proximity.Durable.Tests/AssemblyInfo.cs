[assembly: AssemblyFixture(typeof(Proximity.Storage.Tests.PostgresFixture))]
