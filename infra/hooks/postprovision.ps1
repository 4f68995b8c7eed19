# azd postprovision hook (PowerShell 7; infra/hooks/postprovision.sh is the POSIX twin and says why).
# Grants the Defender API app roles to the function app's identity when DEFENDER_GRANT is 'true' and the
# signed-in `az` account holds the Graph rights, otherwise prints the exact commands; then lists what is
# granted. Never fails the provisioning. Rerun: azd hooks run postprovision
$ErrorActionPreference = 'Continue'

$DefenderAppId = 'fc780465-2017-40d4-a0c5-307022471b92' # WindowsDefenderATP, the same in every tenant
$Graph = 'https://graph.microsoft.com/v1.0'

$principal = $env:AZURE_IDENTITY_PRINCIPAL_ID
$kinds = if ($env:EXPORT_KINDS) { $env:EXPORT_KINDS } else { 'SoftwareInventory' }
$grant = "$($env:DEFENDER_GRANT)".ToLowerInvariant() -eq 'true'

if (-not $principal) {
  Write-Error "postprovision: AZURE_IDENTITY_PRINCIPAL_ID is not set; run this through azd after 'azd provision'."
  exit 1
}

# The app role each kind needs (the `permission` of shared/kinds/exportKinds.ts; docs/kinds.md).
$software = $false
$vulnerability = $false
foreach ($k in ($kinds -split ',' | ForEach-Object { $_.Trim().ToLowerInvariant() } | Where-Object { $_ })) {
  switch ($k) {
    { $_ -in 'softwareinventory', 'noncpesoftwareinventory' } { $software = $true; break }
    { $_ -in 'softwarevulnerabilities', 'secureconfigurations' } { $vulnerability = $true; break }
    default { Write-Warning "EXPORT_KINDS lists '$k', which is not an export kind (docs/kinds.md); the app will refuse it." }
  }
}
if (-not ($software -or $vulnerability)) { $software = $true }
$roles = @()
if ($software) { $roles += 'Software.Read.All' }
if ($vulnerability) { $roles += 'Vulnerability.Read.All' }

Write-Host ''
Write-Host "Defender API permissions for the function app's identity (service principal $principal)"
Write-Host "  needed for EXPORT_KINDS=${kinds}: $($roles -join ' ')"

function Show-Commands([string]$sp, [hashtable]$roleIds, [string[]]$names) {
  # $sp empty / a role without a known id: the printed commands look them up themselves
  Write-Host ''
  Write-Host 'An administrator who may grant admin consent for application permissions (Privileged Role'
  Write-Host 'Administrator, Cloud Application Administrator or Application Administrator) runs, in PowerShell with the Azure CLI:'
  Write-Host ''
  if (-not $sp) {
    Write-Host "  `$DefenderSp = az ad sp show --id $DefenderAppId --query id -o tsv"
    $sp = '$DefenderSp'
  }
  foreach ($role in $names) {
    Write-Host "  # $role"
    $id = if ($roleIds -and $roleIds[$role]) { $roleIds[$role] } else { '$RoleId' }
    if ($id -eq '$RoleId') {
      Write-Host "  `$RoleId = az ad sp show --id $DefenderAppId --query `"appRoles[?value=='$role'].id | [0]`" -o tsv"
    }
    Write-Host "  `$body = @{ principalId = '$principal'; resourceId = `"$sp`"; appRoleId = `"$id`" } | ConvertTo-Json -Compress"
    Write-Host "  Set-Content -Path grant.json -Value `$body -NoNewline"
    Write-Host "  az rest --method POST --uri $Graph/servicePrincipals/$principal/appRoleAssignments --headers Content-Type=application/json --body '@grant.json'"
  }
  Write-Host ''
  Write-Host "or says 'azd env set DEFENDER_GRANT true' and runs 'azd hooks run postprovision' signed in with 'az login'."
}

$spExpr = ''
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Host ''
  Write-Host "The Azure CLI is not installed, so nothing was checked or granted."
  Show-Commands $spExpr $null $roles
  exit 0
}
az account show --only-show-errors *> $null
if ($LASTEXITCODE -ne 0) {
  Write-Host ''
  Write-Host "The Azure CLI is not signed in ('az login'), so nothing was checked or granted."
  Show-Commands $spExpr $null $roles
  exit 0
}

$defenderSp = az ad sp show --id $DefenderAppId --query id -o tsv --only-show-errors 2>$null
if (-not $defenderSp) {
  Write-Host ''
  Write-Host "The WindowsDefenderATP service principal ($DefenderAppId) was not found in this tenant: Microsoft"
  Write-Host 'Defender for Endpoint is not set up here, or this account cannot read service principals.'
  Show-Commands $spExpr $null $roles
  exit 0
}

$roleIds = @{}
foreach ($role in $roles) {
  $id = az ad sp show --id $DefenderAppId --query "appRoles[?value=='$role'].id | [0]" -o tsv --only-show-errors
  if ($id) { $roleIds[$role] = $id } else { Write-Warning "WindowsDefenderATP has no app role ${role}: check EXPORT_KINDS." }
}

function Get-Missing {
  $have = az rest --method GET --uri "$Graph/servicePrincipals/$principal/appRoleAssignments" `
    --query "value[?resourceId=='$defenderSp'].appRoleId" -o tsv --only-show-errors
  if ($LASTEXITCODE -ne 0) { return $null }
  $haveIds = @("$have" -split "`n" | ForEach-Object { $_.Trim() } | Where-Object { $_ })
  return @($roleIds.Keys | Where-Object { $haveIds -notcontains $roleIds[$_] } | Sort-Object)
}

$missing = Get-Missing
if ($null -eq $missing) {
  Write-Host "Could not list the identity's app role assignments (Microsoft Graph refused: this account may lack"
  Write-Host 'Application.Read.All / Directory.Read.All).'
  Show-Commands $defenderSp $roleIds @($roleIds.Keys)
  exit 0
}

if ($missing.Count -gt 0 -and $grant) {
  foreach ($role in $missing) {
    Write-Host "Granting $role ..."
    $body = @{ principalId = $principal; resourceId = $defenderSp; appRoleId = $roleIds[$role] } | ConvertTo-Json -Compress
    $bodyFile = New-TemporaryFile
    Set-Content -Path $bodyFile -Value $body -NoNewline
    az rest --method POST --uri "$Graph/servicePrincipals/$principal/appRoleAssignments" `
      --headers Content-Type=application/json --body "@$bodyFile" --only-show-errors *> $null
    if ($LASTEXITCODE -eq 0) { Write-Host '  granted.' } else { Write-Host '  refused: this account lacks the Graph rights to grant application permissions.' }
    Remove-Item $bodyFile -ErrorAction SilentlyContinue
  }
  $again = Get-Missing
  if ($null -ne $again) { $missing = $again }
}

Write-Host ''
Write-Host 'Granted on WindowsDefenderATP:'
foreach ($role in $roleIds.Keys | Sort-Object) {
  if ($missing -contains $role) { Write-Host "  MISSING  $role" } else { Write-Host "  ok       $role" }
}

if ($missing.Count -gt 0) {
  if (-not $grant) {
    Write-Host ''
    Write-Host "Not granted automatically: DEFENDER_GRANT is not 'true' in this azd environment."
  }
  Show-Commands $defenderSp $roleIds $missing
  Write-Host ''
  Write-Host "Until then the timer's Defender call fails with 403. Tokens are cached for up to a day, so a fresh"
  Write-Host 'grant can take a while to show.'
}
exit 0
