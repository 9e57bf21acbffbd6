@echo off
"C:\Program Files\WinRAR\WinRAR.exe" a -pBatPw -ep1 x.rar C:\export
7za.exe a -p%PW% y.7z
