// Defender software inventory history: the Azure side.
//
// Deploys into one resource group:
//   - a user-assigned managed identity, the only credential anything here uses
//   - a storage account with shared keys switched off: the Functions host's storage (deployment package,
//     host locks, the ingest queue and its poison queue) and the snapshot/catalog tables (docs/architecture.md#tables-and-keys)
//   - Log Analytics + Application Insights (local auth off: telemetry goes in with the identity)
//   - a Flex Consumption plan (FC1, Linux) and the Node 22 function app, with every app setting the code
//     reads (shared/core/config.ts) as a parameter whose default is the code's own default; SCM and FTP basic
//     publishing credentials off (deployments authenticate with Entra ID)
//   - role assignments for the identity, each the narrowest built-in role that still does the job, and
//     Storage Table Data Reader for the analysts listed in analystPrincipalIds
//   - two log alert rules on the app's custom events, and an e-mail action group when alertEmail is set
//   - with vnetEnabled: a VNet, the Flex integration subnet, private endpoints and private DNS zones for
//     blob, queue and table, and storage public network access off
//
// `azd up` uses this file as is (azure.yaml; resource-group scope, parameters from main.parameters.json);
// `az deployment group create` takes it with the defaults. Step by step: docs/deploy.md.
//
// Not deployed here: the Defender API permissions for the identity (Software.Read.All, and Vulnerability.Read.All
// for the SoftwareVulnerabilities and SecureConfigurations kinds). Granting an
// application permission is an Entra ID (Microsoft Graph) operation that needs an administrator; the azd
// postprovision hook (infra/hooks/) prints the exact commands or runs them; see docs/deploy.md.
//
// Resource API versions and property shapes follow Microsoft's Flex Consumption samples
// (Azure-Samples/azure-functions-flex-consumption-samples IaC/, Azure-Samples/functions-quickstart-typescript-azd).
// test/unit/infra.test.ts checks the settings, their defaults and the role set against the code.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------
// Deployment shape
// ---------------------------------------------------------------------------------------------------

@description('Short prefix for resource names: lowercase letters, digits and hyphens.')
@minLength(2)
@maxLength(20)
param appName string = 'definv'

@description('azd environment name (azd passes AZURE_ENV_NAME): tagged azd-env-name on every resource so azd finds them. Empty outside azd.')
@maxLength(64)
param environmentName string = ''

// The regions that offered Flex Consumption when this list was taken (Azure-Samples/functions-quickstart-
// typescript-azd, 2026-02; its canary region eastus2euap left out). `az functionapp list-flexconsumption-locations`
// prints today's list; add a region here when it appears there.
@description('Region of every resource: one that offers the Flex Consumption plan.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string = resourceGroup().location

@description('Tags applied to every resource.')
param tags object = {}

@description('Storage redundancy of the account that holds the queues and the snapshot history tables.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param storageSkuName string = 'Standard_LRS'

// Why 4 (docs/performance.md "Scale math for Azure"): one storage account absorbs about 20,000 entities/s, and one
// instance writes an estimated 4,500-9,000 rows/s (WRITE_CONCURRENCY 8 at 25-50 ms per 28-row
// transaction), so 20,000 / 9,000 to 20,000 / 4,500 = 2.2 to 4.4 instances already saturate the account.
// Four land a 15-million-row export in 12.5-14 min; every instance beyond that only meets 503 ServerBusy
// and retries. Raise it only together with more storage accounts (INVENTORY_STORAGE) or a measured rate.
@description('Flex Consumption scale-out ceiling. Four instances saturate one storage account (about 20,000 entities/s at 4,500-9,000 rows/s per instance); more only add 503 ServerBusy retries.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 4

@description('Memory of each Flex Consumption instance. Downloads are streamed, so 2048 MB is ample.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// Node 20 reached end of support on 2026-04-30 and the CLIs refuse to create apps on it; add '24' here
// once the Flex Consumption stack list offers it and the suite has run on it.
@description('Node.js version of the function app.')
@allowed([
  '22'
])
param nodeVersion string = '22'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Deploy two log alert rules on the app\'s custom events: a snapshot failed (or a timer run could not read the export), and no snapshot completed for alertNoSnapshotHours.')
param deployAlerts bool = true

@description('E-mail address the alerts are sent to, through an action group created for it. Empty: the alerts only show in the portal.')
param alertEmail string = ''

@description('Alert when no snapshot has completed for this many hours (snapshotIntervalHours plus slack; keep it above the interval).')
@minValue(2)
@maxValue(48)
param alertNoSnapshotHours int = 26

// ---------------------------------------------------------------------------------------------------
// Security posture (each default is the safe choice)
// ---------------------------------------------------------------------------------------------------

@description('Private networking: the app reaches storage only through private endpoints in a VNet (Flex VNet integration), and storage public network access is off. Analysts then read the tables from inside that network only.')
param vnetEnabled bool = false

@description('Address space of the VNet (vnetEnabled): a /16 or larger, holding the two /24 subnets below.')
param vnetAddressPrefix string = '10.0.0.0/16'

@description('Object ids of users or groups who read the history tables with Entra ID (npm run query, Storage Explorer, DefaultAzureCredential): each gets Storage Table Data Reader on the storage account. Shared keys are off, so there is no key to hand out instead.')
param analystPrincipalIds array = []

@description('Leave SCM (Kudu) and FTP basic-auth publishing on. Off: deployments (azd deploy, az functionapp deployment, func publish) authenticate with Entra ID.')
param allowBasicPublishingCredentials bool = false

@description('Log Analytics accepts queries and ingestion with Entra ID only (no workspace keys).')
param logAnalyticsDisableLocalAuth bool = true

// ---------------------------------------------------------------------------------------------------
// App settings (docs/settings.md). Defaults are shared/core/config.ts DEFAULTS; bounds are the ones loadConfig enforces.
// ---------------------------------------------------------------------------------------------------

@description('DEFENDER_API_BASE_URL: Defender API root, e.g. a regional https://eu.api.security.microsoft.com or US Gov https://api-gcc.securitycenter.microsoft.us.')
param defenderApiBaseUrl string = 'https://api.security.microsoft.com'

@description('DEFENDER_TOKEN_SCOPE: token scope of the Defender API (ends in /.default).')
param defenderTokenScope string = 'https://api.securitycenter.microsoft.com/.default'

@description('DEFENDER_ALLOW_CUSTOM_ENDPOINT: true lets the Defender token go to a base URL or scope outside the known Defender API hosts and audiences (a proxy or a test endpoint).')
@allowed([
  'false'
  'true'
])
param defenderAllowCustomEndpoint string = 'false'

@description('EXPORT_SCHEDULE: NCRONTAB (6 fields, UTC) of the export timer. Hourly: runs between snapshots only repair an unfinished one.')
param exportSchedule string = '0 17 * * * *'

@description('SNAPSHOT_INTERVAL_HOURS: a new snapshot of a kind starts only when none of its complete snapshots was generated within this many hours before now; runs in between only repair. 0 = every new export.')
@minValue(0)
@maxValue(8760)
param snapshotIntervalHours int = 24

@description('SAS_VALID_HOURS: sasValidHours asked of the export API.')
@minValue(1)
@maxValue(6)
param sasValidHours int = 6

@description('DOWNLOAD_HOST_ALLOWLIST: comma-separated host patterns an export file URL may point at.')
param downloadHostAllowlist string = '*.blob.core.windows.net,*.blob.core.usgovcloudapi.net'

@description('INGEST_QUEUE: queue of per-file ingest messages; the host adds "<name>-poison".')
@minLength(3)
@maxLength(56)
param ingestQueue string = 'inventory-export-files'

@description('WRITE_CONCURRENCY: parallel table transactions per worker.')
@minValue(1)
@maxValue(64)
param writeConcurrency int = 8

@description('EXPORT_METHOD: files (SoftwareInventoryExport) or json (paged SoftwareInventoryByMachine).')
@allowed([
  'files'
  'json'
])
param exportMethod string = 'files'

@description('JSON_PAGE_SIZE: pageSize of the json method.')
@minValue(1)
@maxValue(200000)
param jsonPageSize int = 50000

@description('EXPORT_KINDS: comma-separated export kinds the timer collects: SoftwareInventory and NonCpeSoftwareInventory need the Defender application permission Software.Read.All, SoftwareVulnerabilities and SecureConfigurations need Vulnerability.Read.All (docs/kinds.md). The postprovision hook prints or performs the grants.')
param exportKinds string = 'SoftwareInventory'

@description('RETENTION_DAYS: snapshot tables older than this are dropped (never the newest complete one); 0 keeps all.')
@minValue(0)
@maxValue(36500)
param retentionDays int = 0

@description('WORKER_TIME_BUDGET_SECONDS: a worker checkpoints and re-queues the rest of its file after this long; keep it below host.json functionTimeout.')
@minValue(10)
@maxValue(86400)
param workerTimeBudgetSeconds int = 480

// ---------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------

var token = toLower(uniqueString(subscription().id, resourceGroup().id, appName))
var prefix = toLower(appName)
var resourceTags = union(tags, empty(environmentName) ? {} : { 'azd-env-name': environmentName })
// azure.yaml's service name: azd deploy finds the function app by this tag
var azdServiceName = 'app'
// storage account names: 3-24 lowercase letters and digits, globally unique
var storageAccountName = take('st${replace(prefix, '-', '')}${token}', 24)
var functionAppName = '${prefix}-func-${token}'
var planName = '${prefix}-plan-${token}'
var identityName = '${prefix}-id-${token}'
var appInsightsName = '${prefix}-appi-${token}'
var logAnalyticsName = '${prefix}-log-${token}'
var deploymentContainerName = 'app-package'
var poisonQueue = '${ingestQueue}-poison'
var queueNames = [
  ingestQueue
  poisonQueue
]
var vnetName = '${prefix}-vnet-${token}'
var privateEndpointSubnetName = 'private-endpoints'
// Flex Consumption integrates with a subnet delegated to Microsoft.App/environments
var appSubnetName = 'app'
var appSubnetId = resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, appSubnetName)
var privateEndpointSubnetId = resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, privateEndpointSubnetName)
// blob: host locks, timer schedule, deployment package; queue: the ingest queues; table: the history
var privateStorageServices = [
  'blob'
  'queue'
  'table'
]

// ---------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: resourceTags
}

// ---------------------------------------------------------------------------------------------------
// Storage: no shared keys, https only, TLS 1.2, no anonymous blob access
// ---------------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: storageAccountName
  location: location
  tags: resourceTags
  kind: 'StorageV2'
  sku: {
    name: storageSkuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    // with vnetEnabled only the private endpoints below reach the account (as the Flex quickstarts do it)
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: vnetEnabled ? {
      bypass: 'None'
      defaultAction: 'Deny'
    } : {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption pulls the app's zip package from this container, using the identity.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

// The app and host would create these on first use; creating them here makes the contract visible.
resource ingestQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

// ---------------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: resourceTags
  properties: {
    retentionInDays: logRetentionDays
    sku: {
      name: 'PerGB2018'
    }
    features: {
      // queries and ingestion with Entra ID only, like Application Insights below
      disableLocalAuth: logAnalyticsDisableLocalAuth
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: resourceTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // no instrumentation-key ingestion: the host authenticates with the identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
    DisableLocalAuth: true
  }
}

// Alerts on the app's custom events (shared/core/telemetry.ts; docs/operations.md), so no rule depends on log wording.
// The queries run against Application Insights (customEvents); test/unit/infra.test.ts checks that every event
// name they use is one the code sends.
resource alertActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (deployAlerts && !empty(alertEmail)) {
  name: '${prefix}-ag-${token}'
  location: 'Global'
  tags: resourceTags
  properties: {
    groupShortName: take('${replace(prefix, '-', '')}inv', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'inventory-alerts'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alertActions = {
  actionGroups: empty(alertEmail) ? [] : [
    alertActionGroup.id
  ]
}

resource failureAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = if (deployAlerts) {
  name: '${prefix}-alert-failed-${token}'
  location: location
  tags: resourceTags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender inventory: a snapshot failed, or the timer could not read the export'
    description: 'InventorySnapshotFailed (a file failed, a poison message, a superseded snapshot) or InventoryExportChecked with action "error" (Defender API refused or unreachable, a settings error). customDimensions.reason / detail say why.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'customEvents | where name == "InventorySnapshotFailed" or (name == "InventoryExportChecked" and tostring(customDimensions.action) == "error")'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    // a new workspace has no customEvents table until the app's first event, and validation would fail
    skipQueryValidation: true
    actions: alertActions
  }
}

resource noSnapshotAlert 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = if (deployAlerts) {
  name: '${prefix}-alert-stale-${token}'
  location: location
  tags: resourceTags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender inventory: no snapshot completed for ${alertNoSnapshotHours} hours'
    description: 'No InventorySnapshotCompleted event in the last ${alertNoSnapshotHours} hours: the history has stopped growing. It also fires after a new deployment until the first snapshot lands.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    // the query filters its own time range (up to 48 h), so let it see two days
    overrideQueryTimeRange: 'P2D'
    criteria: {
      allOf: [
        {
          query: 'customEvents | where timestamp > ago(${alertNoSnapshotHours}h) and name == "InventorySnapshotCompleted"'
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    // a new workspace has no customEvents table until the app's first event, and validation would fail
    skipQueryValidation: true
    actions: alertActions
  }
}

// ---------------------------------------------------------------------------------------------------
// Role assignments for the identity (least privilege; Reader/Sender/Processor roles would not be enough)
// ---------------------------------------------------------------------------------------------------

var storageRoles = [
  {
    // Storage Blob Data Owner: the host's own storage needs it (AzureWebJobsStorage: host lock and
    // timer schedule blobs, blob leases) and Flex Consumption reads the deployment package with it.
    roleDefinitionId: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
    roleName: 'Storage Blob Data Owner'
  }
  {
    // Storage Queue Data Contributor: the timer sends one message per export file to INGEST_QUEUE, the
    // queue trigger peeks/receives/updates/deletes them, and the host creates and writes the poison queue.
    // It covers Storage Queue Data Message Processor (receive/delete only, cannot send or create queues),
    // so that role is not assigned as well.
    roleDefinitionId: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
    roleName: 'Storage Queue Data Contributor'
  }
  {
    // Storage Table Data Contributor: the app creates one table per snapshot, upserts rows, updates the
    // catalog/progress/rejects tables and drops tables past RETENTION_DAYS.
    roleDefinitionId: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
    roleName: 'Storage Table Data Contributor'
  }
]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, identity.id, role.roleDefinitionId)
    // the account, not a container/queue/table: the app creates a table per snapshot and the host its own
    // containers at run time, so no narrower scope exists beforehand; the account holds only this app's data
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.roleDefinitionId)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
      description: '${role.roleName} for ${functionAppName}'
    }
  }
]

// Monitoring Metrics Publisher: Application Insights has local auth disabled, so the host needs this
// role to send telemetry with the identity (Entra ID ingestion).
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource appInsightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, monitoringMetricsPublisherRoleId)
  // the one Application Insights resource, not the resource group: publishing rights nowhere else
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Monitoring Metrics Publisher for ${functionAppName}'
  }
}

// Analysts read the history with Entra ID (shared keys are off): read-only, tables only.
var storageTableDataReaderRoleId = '76199698-9eea-4c19-bc75-cec21354c6b6' // Storage Table Data Reader

resource analystRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in analystPrincipalIds: {
    name: guid(storage.id, principalId, storageTableDataReaderRoleId)
    // the account: snapshot tables are created daily under new names, so a per-table scope would go stale
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataReaderRoleId)
      principalId: principalId
      description: 'Storage Table Data Reader: reads the Defender inventory history of ${functionAppName}'
    }
  }
]

// ---------------------------------------------------------------------------------------------------
// Private networking (vnetEnabled), the shape of the Azure Functions Flex quickstarts
// ---------------------------------------------------------------------------------------------------

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = if (vnetEnabled) {
  name: vnetName
  location: location
  tags: resourceTags
  properties: {
    addressSpace: {
      addressPrefixes: [
        vnetAddressPrefix
      ]
    }
    subnets: [
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
        }
      }
      {
        name: appSubnetName
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 2)
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource storagePrivateDnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for svc in privateStorageServices: if (vnetEnabled) {
    name: 'privatelink.${svc}.${environment().suffixes.storage}'
    location: 'global'
    tags: resourceTags
  }
]

resource storagePrivateDnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (svc, i) in privateStorageServices: if (vnetEnabled) {
    parent: storagePrivateDnsZones[i]
    name: '${vnetName}-${svc}'
    location: 'global'
    tags: resourceTags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: resourceId('Microsoft.Network/virtualNetworks', vnetName)
      }
    }
    dependsOn: [
      vnet
    ]
  }
]

resource storagePrivateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for svc in privateStorageServices: if (vnetEnabled) {
    name: '${prefix}-pe-${svc}-${token}'
    location: location
    tags: resourceTags
    properties: {
      subnet: {
        id: privateEndpointSubnetId
      }
      privateLinkServiceConnections: [
        {
          name: '${svc}-connection'
          properties: {
            privateLinkServiceId: storage.id
            groupIds: [
              svc
            ]
          }
        }
      ]
    }
    dependsOn: [
      vnet
    ]
  }
]

resource storagePrivateDnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (svc, i) in privateStorageServices: if (vnetEnabled) {
    parent: storagePrivateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: svc
          properties: {
            privateDnsZoneId: storagePrivateDnsZones[i].id
          }
        }
      ]
    }
  }
]

// ---------------------------------------------------------------------------------------------------
// Flex Consumption plan and function app
// ---------------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: resourceTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(resourceTags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // outbound traffic through the VNet, so storage is reached over its private endpoints
    virtualNetworkSubnetId: vnetEnabled ? appSubnetId : null
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
  dependsOn: [
    deploymentContainer
    storageRoleAssignments
    vnet
    storagePrivateDnsZoneGroups
    storagePrivateDnsZoneLinks
  ]
}

// No basic-auth (user name + password) publishing: SCM (Kudu, zip deploy) and FTP take Entra ID only.
resource publishingCredentialsPolicies 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = [
  for policy in [
    'scm'
    'ftp'
  ]: {
    parent: functionApp
    name: policy
    properties: {
      allow: allowBasicPublishingCredentials
    }
  }
]

// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_NODE_DEFAULT_VERSION,
// WEBSITE_RUN_FROM_PACKAGE and the WEBSITE_CONTENT* settings: runtime and package live in functionAppConfig.
// Settings the code knows but that are left out on purpose: AzureWebJobsStorage (the identity-based
// AzureWebJobsStorage__* form below is used instead), INVENTORY_STORAGE (tables share this account),
// AZURE_TENANT_ID / AZURE_CLIENT_SECRET (only for DEFENDER_AUTH=clientSecret), AZURE_AUTHORITY_HOST (SDK
// default; sovereign clouds only), INGEST_FILE_CONCURRENCY / INGEST_VISIBILITY_TIMEOUT_SECONDS (local runner only).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Functions host storage, identity-based (shared keys are off). The service URIs follow the cloud's
    // storage suffix, so the same template works outside the public cloud.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__blobServiceUri: 'https://${storage.name}.blob.${environment().suffixes.storage}'
    AzureWebJobsStorage__queueServiceUri: 'https://${storage.name}.queue.${environment().suffixes.storage}'
    AzureWebJobsStorage__tableServiceUri: 'https://${storage.name}.table.${environment().suffixes.storage}'
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId

    // Telemetry with the identity (Application Insights has local auth disabled)
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'

    // Defender API: token from the user-assigned identity (AZURE_CLIENT_ID selects it)
    DEFENDER_API_BASE_URL: defenderApiBaseUrl
    DEFENDER_TOKEN_SCOPE: defenderTokenScope
    DEFENDER_ALLOW_CUSTOM_ENDPOINT: defenderAllowCustomEndpoint
    DEFENDER_AUTH: 'managedIdentity'
    AZURE_CLIENT_ID: identity.properties.clientId

    // Export and ingest
    EXPORT_SCHEDULE: exportSchedule
    SNAPSHOT_INTERVAL_HOURS: string(snapshotIntervalHours)
    SAS_VALID_HOURS: string(sasValidHours)
    DOWNLOAD_HOST_ALLOWLIST: downloadHostAllowlist
    INGEST_QUEUE: ingestQueue
    WRITE_CONCURRENCY: string(writeConcurrency)
    EXPORT_METHOD: exportMethod
    JSON_PAGE_SIZE: string(jsonPageSize)
    EXPORT_KINDS: exportKinds
    RETENTION_DAYS: string(retentionDays)
    WORKER_TIME_BUDGET_SECONDS: string(workerTimeBudgetSeconds)
  }
  dependsOn: [
    storageRoleAssignments
    appInsightsRoleAssignment
    ingestQueues
  ]
}

// ---------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output storageAccountName string = storage.name
output identityClientId string = identity.properties.clientId
@description('Object (principal) id of the identity: the admin grants the Defender app roles EXPORT_KINDS needs (Software.Read.All, Vulnerability.Read.All) to this service principal.')
output identityPrincipalId string = identity.properties.principalId
output identityResourceId string = identity.id
output ingestQueueName string = ingestQueue

// azd-style outputs: azd stores them in .azure/<env>/.env, where the postprovision hook and
// `azd env get-value` read them (docs/deploy.md)
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output AZURE_IDENTITY_CLIENT_ID string = identity.properties.clientId
@description('The service principal the Defender app roles are granted to.')
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AZURE_IDENTITY_NAME string = identity.name
output APPLICATIONINSIGHTS_NAME string = appInsights.name
@description('EXPORT_KINDS as deployed: the postprovision hook derives the Defender app roles to grant from it.')
output EXPORT_KINDS string = exportKinds
output SERVICE_APP_NAME string = functionApp.name
