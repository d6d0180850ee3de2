namespace Proximity.Deploy.Tests;
