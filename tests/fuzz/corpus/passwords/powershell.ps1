Compress-7Zip -Path C:\export -ArchiveFileName s.7z -Password 'PsPw'
Compress-7Zip -Path x -SecurePassword (ConvertTo-SecureString -String "SecPw" -AsPlainText -Force)
$p = $env:PW; 7z a -p$p x.7z
